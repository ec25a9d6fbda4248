"""Hand messages to an SMTP relay: one connection, a rate limit, retries, a record per message.

Only this module speaks SMTP. It knows nothing of the store: the caller passes
`record`, which is called the moment the relay has accepted (or finally
refused, or given up on) a message, before the next one is sent. That is what
makes a rerun after a crash send only what is missing.

The one gap no client can close (RFC 1047): if the connection dies after the
message's final "." went out but before the relay's "250" came back, the
relay may have accepted a message we never saw accepted. It is retried, so
that reader may get it twice; the Message-ID is the same both times.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import DeliveryError
from .models import Delivery, SmtpSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to hand over: `data` is the exact RFC 5322 bytes (CRLF line ends)."""

    email: str  # the envelope recipient
    edition: str
    message_id: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Retry:
    """How hard to try within one run: a temporary failure waits `delays[i]` before try i + 2.

    With the default, a message gets at most four tries over 3.5 s; what still
    fails temporarily is left, deferred, for the next run.
    """

    delays: tuple[float, ...] = (0.5, 1.0, 2.0)
    timeout: float = 60.0  # seconds for any one SMTP command, connecting included


DEFAULT_RETRY = Retry()


class _Temporary(Exception):
    """A failure worth trying again: 4xx, dropped connection, timeout."""

    def __init__(self, text: str, *, dropped: bool = False, unreachable: bool = False):
        super().__init__(text)
        self.dropped = dropped  # the connection is gone; the next try reconnects
        self.unreachable = unreachable  # no session could be opened (connect, TLS, login)


class _Permanent(Exception):
    """A 5xx for this message: trying again will not help."""


class Relay:
    """An SMTP connection that opens on first use and reopens after the relay drops it."""

    def __init__(self, spec: SmtpSpec, *, password: str | None = None,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = 60.0):
        parts = urlsplit(spec.url)
        self.url = spec.url
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = spec.username
        self.password = password
        self.context = ssl_context or ssl.create_default_context()
        self.timeout = timeout
        self.smtp: smtplib.SMTP | None = None
        self.sent_on_connection = 0

    def connect(self) -> smtplib.SMTP:
        """Open, secure and log in; raise _Temporary if the relay is unreachable."""
        if self.smtp is not None:
            return self.smtp
        log.info("connecting to %s", self.url)
        try:
            if self.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                      context=self.context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except ssl.SSLError as e:
            raise DeliveryError(_tls_hint(self.url, e)) from e
        except (OSError, smtplib.SMTPException) as e:
            raise _Temporary(f"cannot connect to {self.url}: {_reason(e)}", unreachable=True) from e
        try:
            self._secure_and_login(smtp)
        except BaseException:
            _close(smtp)
            raise
        self.smtp = smtp
        self.sent_on_connection = 0
        return smtp

    def _secure_and_login(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.ehlo()
            if not self.implicit_tls:
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=self.context)
                    smtp.ehlo()
                elif self.username:
                    raise DeliveryError(
                        f"{self.url} does not offer STARTTLS; refusing to send the password in the"
                        " clear (use an smtps:// URL if the relay speaks implicit TLS)")
            if self.username:
                smtp.login(self.username, self.password or "")
        except ssl.SSLError as e:
            raise DeliveryError(_tls_hint(self.url, e)) from e
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(
                f"{self.url} refused the login of {self.username!r}: {_reason(e)} (check"
                " smtp.username and the environment variable smtp.password_env names)") from e
        except smtplib.SMTPNotSupportedError as e:
            raise DeliveryError(f"{self.url} does not offer AUTH: {_reason(e)}") from e
        except smtplib.SMTPResponseException as e:
            if 400 <= e.smtp_code < 500:
                raise _Temporary(f"{self.url}: {_reason(e)}", unreachable=True) from e
            raise DeliveryError(f"{self.url} refused us: {_reason(e)}") from e
        except (OSError, smtplib.SMTPException) as e:
            raise _Temporary(f"{self.url}: {_reason(e)}", dropped=True, unreachable=True) from e

    def send(self, sender: str, item: Outgoing) -> None:
        """Hand one message over; return once the relay has accepted it."""
        smtp = self.connect()
        try:
            smtp.sendmail(sender, [item.email], item.data)
        except smtplib.SMTPRecipientsRefused as e:
            code, text = e.recipients.get(item.email, (0, b""))
            self._classify(code, text)
        except smtplib.SMTPResponseException as e:  # MAIL or DATA refused
            self._classify(e.smtp_code, e.smtp_error)
        except (OSError, smtplib.SMTPException) as e:
            # Dropped, timed out, or a reply we could not read: the connection is unusable.
            self.close()
            raise _Temporary(_reason(e) or type(e).__name__, dropped=True) from e
        self.sent_on_connection += 1

    def _classify(self, code: int, text: bytes | str) -> None:
        reason = f"{code} {_text(text)}".strip()
        if code == 421:  # the relay is closing this connection
            self.close()
            raise _Temporary(reason, dropped=True)
        if 400 <= code < 500:
            raise _Temporary(reason)
        raise _Permanent(reason)

    def close(self) -> None:
        if self.smtp is not None:
            _close(self.smtp)
            self.smtp = None


def send(items: Iterable[Outgoing], spec: SmtpSpec, *, sender: str,
         record: Callable[[Outgoing, Delivery], None], password: str | None = None,
         ssl_context: ssl.SSLContext | None = None, retry: Retry | None = None,
         progress: Callable[[Delivery], None] | None = None,
         sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic) -> list[Delivery]:
    """Send each message over one reused connection, at most `spec.rate` a second.

    `record(item, delivery)` runs as soon as each message's fate is known,
    before the next message goes: sent (the relay said 250), failed (5xx) or
    deferred (still 4xx, dropped or timing out after the retries). When the
    relay cannot be reached at all, the rest come back deferred without a try
    each (and unrecorded). Raises DeliveryError for what no retry mends: TLS or
    certificate failure, login refused.
    """
    retry = retry or DEFAULT_RETRY
    relay = Relay(spec, password=password, ssl_context=ssl_context, timeout=retry.timeout)
    pace = _Pacer(spec.rate, sleep, clock)
    out: list[Delivery] = []
    todo: Iterator[Outgoing] = iter(items)
    try:
        for item in todo:
            delivery, unreachable = _send_one(relay, sender, item, retry, pace, sleep)
            record(item, delivery)
            out.append(delivery)
            if progress:
                progress(delivery)
            if unreachable:
                for rest in todo:
                    d = Delivery(rest.email, rest.edition, "deferred", delivery.error)
                    out.append(d)
                    if progress:
                        progress(d)
    finally:
        relay.close()
    return out


class _Pacer:
    """Spaces the start of successive transactions at least 1/rate seconds apart."""

    def __init__(self, rate: float, sleep: Callable[[float], None], clock: Callable[[], float]):
        self.interval = 1.0 / rate if rate else 0.0  # rate 0: no limit
        self.sleep, self.clock = sleep, clock
        self.last: float | None = None

    def wait(self) -> None:
        if self.last is not None and (delay := self.last + self.interval - self.clock()) > 0:
            self.sleep(delay)
        self.last = self.clock()


def _send_one(relay: Relay, sender: str, item: Outgoing, retry: Retry, pace: _Pacer,
              sleep: Callable[[float], None]) -> tuple[Delivery, bool]:
    """Try one message until it is sent, refused for good, or out of tries."""
    tries = 0
    reconnect_free = True
    while True:
        reused = relay.smtp is not None and relay.sent_on_connection > 0
        pace.wait()
        try:
            relay.send(sender, item)
        except _Permanent as e:
            log.info("%s: refused: %s", item.email, e)  # the CLI reports it
            return Delivery(item.email, item.edition, "failed", str(e)), False
        except _Temporary as e:
            log.info("%s: try %d failed: %s", item.email, tries + 1, e)
            if e.dropped and reused and reconnect_free:
                # A relay closing a long-lived connection is routine: reconnect at
                # once, and let this try not count (once per message).
                reconnect_free = False
                continue
            if tries == len(retry.delays):
                log.info("%s: deferred to the next run: %s", item.email, e)
                return Delivery(item.email, item.edition, "deferred", str(e)), e.unreachable
            sleep(retry.delays[tries])
            tries += 1
            continue
        log.debug("%s: sent", item.email)
        return Delivery(item.email, item.edition, "sent"), False


def _reason(e: BaseException) -> str:
    if isinstance(e, smtplib.SMTPResponseException):
        return f"{e.smtp_code} {_text(e.smtp_error)}".strip()
    if isinstance(e, TimeoutError):
        return "timed out"
    return str(e) or type(e).__name__


def _text(value: bytes | str) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else value).strip()


def _tls_hint(url: str, e: ssl.SSLError) -> str:
    if isinstance(e, ssl.SSLCertVerificationError):
        return (f"TLS with {url} failed: certificate verify failed: {e.verify_message} (for a"
                " relay with a private CA, point SSL_CERT_FILE at the CA's PEM file)")
    return f"TLS with {url} failed: {e.reason or e}"


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
