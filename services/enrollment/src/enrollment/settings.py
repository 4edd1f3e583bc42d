from __future__ import annotations

from jijiao_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "enrollment"
    http_port: int = 8001

    #: PEM of the token-signing private key; when unset the key pair lives in ``keys_dir``.
    jwt_private_key: str | None = None
    access_token_ttl_seconds: int = 8 * 3600
    #: Wrong passwords in a row that lock an account (DOMAIN §1).
    max_failed_logins: int = 10
    # After this many wrong passwords in a row the login also needs an image code (0: always).
    captcha_after_failures: int = 3
    #: Login tries per client address and per login text (``limits`` strings; 429 with Retry-After past them).
    login_rate_per_client: str = "120/minute"
    login_rate_per_login: str = "20/minute"
    #: Transfer applications (each one a teacher lookup) per school admin.
    transfer_rate_per_admin: str = "20/hour"
