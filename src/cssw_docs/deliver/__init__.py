"""Delivery: who gets which files (``routes``), the messages (``compose``), the queue (``outbox``).

``outbox`` queues a rendered pack's messages or a rejection's and sends what is due;
``compose`` builds each message from the email templates; ``transport`` talks SMTP or writes
.eml files.
"""
