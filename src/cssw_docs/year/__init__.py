"""The audit year: the annual programme, the reminders, and SMART actions followed to done."""
