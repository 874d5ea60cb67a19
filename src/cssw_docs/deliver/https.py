"""HTTPS for Microsoft 365 (Entra ID token requests through MSAL, and Graph): one session setup.

This is the only module that imports requests (msal depends on it already). Sessions follow the
council's proxy settings (``HTTPS_PROXY``) as requests does.
"""

from __future__ import annotations

from typing import Any

import requests

from ..config import MailSettings

Response = requests.Response


class Session(requests.Session):
    """A session that checks certificates against ``mail.ca_file`` when it is set.

    requests lets ``REQUESTS_CA_BUNDLE`` override a session's own ``verify``; here an explicit
    ``mail.ca_file`` wins, and without it the system's (or ``REQUESTS_CA_BUNDLE``) is used.
    """

    def __init__(self, mail: MailSettings):
        super().__init__()
        self.ca_file = str(mail.ca_file) if mail.ca_file else None
        self.timeout = mail.timeout_seconds

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Response:
        """Send a request with our certificate check and timeout unless given."""
        if self.ca_file is not None:
            kwargs["verify"] = self.ca_file
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def session(mail: MailSettings) -> Session:
    """Return a new HTTPS session for the Microsoft 365 settings in ``mail``."""
    return Session(mail)
