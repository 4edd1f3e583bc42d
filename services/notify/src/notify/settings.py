from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import SecretStr, model_validator

from jijiao_kit.settings import ServiceSettings
from notify.domain.schedule import QuietHours, parse_hhmm


class Settings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8004

    #: ``sink`` stores SMS in the development sink (listed by the API); ``http`` calls the gateway.
    sms_backend: str = "sink"
    sms_signature: str = "广州继教网"
    sms_gateway_url: str = "http://127.0.0.1:9090/sms/send"
    sms_gateway_username: str | None = None
    sms_gateway_password: SecretStr | None = None

    #: Email through SMTP (``make up`` runs a local mail catcher on 1025).
    email_enabled: bool = True
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_start_tls: bool = False
    mail_from: str = "noreply@jijiao.example"
    mail_from_name: str = "广州继教网"

    #: The worker consumes events in batches of up to this many (or what arrived within the linger
    #: time); 1 consumes them one by one.
    consumer_batch_size: int = 200
    consumer_linger_seconds: float = 0.05

    #: Provider calls: one attempt never holds a sender slot longer than this.
    send_timeout_seconds: float = 10.0
    delivery_max_attempts: int = 5
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 600.0
    delivery_interval_seconds: float = 0.2
    #: How often the delivery job scans for due notices it was not handed (retries, deferred, API).
    delivery_scan_seconds: float = 5.0
    delivery_batch_size: int = 200
    delivery_concurrency: int = 32
    #: Notices handed from the consumer to delivery that may wait in memory before the consumer waits.
    delivery_backlog: int = 1000
    #: How long one pass of the delivery job may keep draining before the next tick.
    delivery_drain_seconds: float = 5.0
    #: A claimed notice whose sender died is taken again after this lease.
    delivery_lease_seconds: float = 60.0

    #: Non-urgent notices are never due in quiet hours (local time): created, deferred by the rate
    #: limit, retried or released in them, they wait until their end.
    quiet_hours_enabled: bool = True
    quiet_hours_start: str = "22:00"
    quiet_hours_end: str = "08:00"
    timezone: str = "Asia/Shanghai"

    #: Notices per recipient (mobile or address) per hour; more are deferred, not dropped.
    recipient_rate_per_hour: int = 20

    verification_ttl_seconds: int = 300
    verification_resend_seconds: int = 60
    verification_hourly_cap: int = 5
    verification_max_wrong: int = 5
    #: Secret mixed into code hashes (set in production; the default is for development only).
    verification_pepper: SecretStr = SecretStr("dev-only-pepper")

    #: Scheduled reminders (selection window, points expiry) look for work this often.
    reminder_interval_seconds: float = 60.0

    def quiet_hours(self) -> QuietHours:
        return QuietHours(
            parse_hhmm(self.quiet_hours_start),
            parse_hhmm(self.quiet_hours_end),
            ZoneInfo(self.timezone),
            self.quiet_hours_enabled,
        )

    @model_validator(mode="after")
    def _prefetch_fills_a_batch(self) -> Settings:
        """Before kit 284ca3a the batch consumer's deliveries came on the broker's default channel, so this
        prefetch bounded every batch (32). The kit now declares the queue on the consumer's own channel
        with its own prefetch, which makes this floor redundant; kept (and tested) so either kit works."""
        if self.consumer_batch_size > 0 and self.prefetch_count < 2 * self.consumer_batch_size:
            self.prefetch_count = 2 * self.consumer_batch_size
        return self
