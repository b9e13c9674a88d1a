"""Node settings (pydantic-settings), shared by both tiers.

Values come, highest precedence first, from keyword arguments, ``REGISTRY_*`` environment variables
(nested with ``__``, e.g. ``REGISTRY_TIME_LIMITS__REVIEW_DAYS=15``) and a TOML file given to
:meth:`NodeSettings.load` (the ``--config`` option of each node). Settings are built in ``main()`` and
passed down; nothing reads them at import time.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = [
    "AuthSettings",
    "DatabaseSettings",
    "MetricsSettings",
    "LogSettings",
    "NodeSettings",
    "TimeLimits",
    "TlsSettings",
    "normalise_database_url",
]

_CONFIG_FILE: ContextVar[Path | None] = ContextVar("registry_config_file", default=None)


def normalise_database_url(url: str) -> str:
    """Make PostgreSQL URLs use psycopg 3 (``postgresql+psycopg://``); leave others as they are."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class TimeLimits(BaseModel):
    """Time limits of the procedure, in working days. Provinces differ, so each is a setting."""

    acceptance_days: int = Field(default=3, ge=1, le=60)
    review_days: int = Field(default=20, ge=1, le=120)
    announcement_days: int = Field(default=10, ge=1, le=60)
    objection_days: int = Field(default=10, ge=1, le=60)
    expiry_reminder_days: int = Field(default=20, ge=0, le=250)
    #: Fujian's rule: an authorised operator's initial registration of a product or service is due
    #: within this many working days after authorised operation starts (its operation term's start).
    #: Unset (the default): no such limit.
    initial_registration_days: int | None = Field(default=None, ge=1, le=250)
    #: A data demand matching one of the node's registrations is due for the subject's answer this many
    #: working days after it was posted (or by the demand's deadline, if sooner).
    demand_answer_days: int = Field(default=10, ge=1, le=60)
    #: The reply to a conditional share request (《政务数据共享条例》 Art. 21: 10 working days, the
    #: most this may be; a node may ask its departments for less, Art. 23). An unconditional request's
    #: reply is due within 1 working day, which no node can shorten.
    share_reply_days: int = Field(default=10, ge=1, le=10)
    #: The delivery after agreeing (Art. 22: 20 working days at most).
    share_delivery_days: int = Field(default=20, ge=1, le=20)
    #: Hainan's rule (全量登记): an operating entity registers every product and service it makes from
    #: authorised data; a product its disclosure lists without a code is due for registration this many
    #: working days after the disclosure was filed. Unset (the default): no such rule.
    product_registration_days: int | None = Field(default=None, ge=1, le=250)


class TlsSettings(BaseModel):
    """The node's identity on the wire: its certificate from the national CA, and whom it trusts.

    Every node serves TLS, and presents its certificate when it calls another node (mutual TLS). The
    files are read again when they change, so a renewed certificate takes effect without a restart.
    """

    #: The node's certificate (PEM, leaf first), with its SPIFFE identity
    #: ``spiffe://registry.data.gov.cn/nodes/{region}``.
    cert_file: Path | None = None
    #: Its private key (PEM).
    key_file: Path | None = None
    #: The federation's certificate authority (PEM): peers' certificates must chain to it.
    ca_file: Path | None = None
    #: The revocation list the national CA publishes (PEM); a peer whose certificate is on it is refused.
    crl_file: Path | None = None
    #: A provincial node fetches the national node's published list this often and installs it in
    #: ``crl_file`` when it is the CA's and newer (0: never; the file is then kept up to date by hand).
    crl_refresh_seconds: float = Field(default=60.0, ge=0, le=86400)


class AuthSettings(BaseModel):
    """Who the node believes about people: the identity provider whose bearer tokens it accepts, and
    the policy that says what each role may do."""

    #: The identity provider's key set, as a JWKS file (read again when it changes) ...
    jwks_file: Path | None = None
    #: ... or its OIDC issuer URL (keys from its discovery document).
    oidc_issuer: str | None = None
    #: The ``iss`` tokens must carry (with ``jwks_file``).
    issuer: str = "https://id.registry.data.gov.cn"
    #: The ``aud`` tokens must carry.
    audience: str = "registry.data.gov.cn"
    #: The policy (TOML); the built-in one (``common/security/policy.toml``) when unset.
    policy_file: Path | None = None
    #: Whoever accepted an application (in any round) makes no review decision on it.
    separation_of_duties: bool = True


class DatabaseSettings(BaseModel):
    """How a node's processes use PostgreSQL: how many connections they may hold, how long a call waits
    for one, and what the connections may assume of the server (PgBouncer in between or not).

    The budget is a hard bound: the processes of one host that run a node hold at most ``connections``
    connections to the database server together, whatever the load (:func:`common.db.pool_share`
    divides it). The sum over every host, plus the other clients of the server, must stay within its
    ``max_connections`` less ``superuser_reserved_connections`` (the README, "Connections to
    PostgreSQL", shows how to size it). On SQLite only ``pool_timeout`` applies.
    """

    #: Connections to PostgreSQL that this host's processes of the node may hold together: the node's
    #: processes and the ones it starts (the national node's embedded indexer, a province's sync
    #: daemon run as its own process). Two national hosts at the default take 60 of a default server's
    #: 97 (100 less 3 reserved for superusers), leaving room for the portal and an operator's tools.
    connections: int = Field(default=30, ge=1, le=10_000)
    #: Seconds a call waits for one of its process's connections when all are in use; then it is
    #: answered RESOURCE_EXHAUSTED (``DATABASE_BUSY``) with a retry delay.
    pool_timeout: float = Field(default=3.0, gt=0, le=300)
    #: Let the driver prepare a statement on the server after it ran five times (psycopg 3's
    #: ``prepare_threshold``). False behind PgBouncer in transaction mode (before 1.21, or without its
    #: ``max_prepared_statements``): a prepared statement lives on one server connection, and the next
    #: transaction may run on another, where it does not exist.
    prepared_statements: bool = True


class MetricsSettings(BaseModel):
    """Prometheus metrics (``[metrics]``): off unless ``listen`` is set.

    The process serves ``/metrics`` over plain HTTP on ``listen``; port 0 picks a free port, logged as
    ``serving metrics on http://host:port/metrics``. What it exports names no registration, code or
    person: the README, "Metrics and alerts", lists every family and its labels."""

    #: host:port of the metrics endpoint; empty: no endpoint, and no metric is kept.
    listen: str = ""
    #: Seconds between samples of what is read from the database (sync lag, log size, duties due) and
    #: from files (the certificate's expiry, the revocation list's age): one process of a host reads
    #: them, with a few bounded queries, whatever the scrape rate.
    interval: float = Field(default=10.0, gt=0, le=3600)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value:
            host, _, port = value.rpartition(":")
            if not host or not port.isdigit() or int(port) > 65535:
                raise ValueError(f"{value!r} is not host:port")
        return value


class TransparencySettings(BaseModel):
    """The national log (``log_service.proto``): the national node's signing key, and the provinces'
    keys as its witnesses. Keys are C2SP note key texts, each file read when the node starts (the
    witness list again whenever it changes)."""

    #: National: the log's private key (``PRIVATE+KEY+registry.data.gov.cn/national-ledger+...``).
    log_key_file: Path | None = None
    #: National: verifier keys of the log's earlier keys, so their checkpoints stay verifiable.
    old_verifier_keys: list[str] = []
    #: National: the witnesses' cosignature verifier keys, one per line.
    witness_keys_file: Path | None = None
    #: National: seconds between looks for appends by other processes on the same database (appends in
    #: this process are checkpointed at once).
    checkpoint_interval: float = Field(default=1.0, gt=0, le=3600)
    #: National: at most one checkpoint per this many seconds (appends are checkpointed at once, but
    #: under a stream of them, as when a province catches up, one checkpoint covers many). Longer than
    #: a witness's round (about a second), so that every witness cosigns the same checkpoints.
    checkpoint_min_interval: float = Field(default=2.0, ge=0, le=60)
    #: Provincial: the log's verifier keys, one per line (the current key and every earlier one).
    log_verifier_keys_file: Path | None = None
    #: Provincial: this node's private cosignature key as a witness.
    witness_key_file: Path | None = None
    #: Provincial: seconds between comparisons with the other witnesses' checkpoints.
    gossip_interval: float = Field(default=30.0, gt=0, le=86400)


def _level(value: str | None) -> str | None:
    if value is not None and value.upper() not in logging.getLevelNamesMapping():
        raise ValueError(f"{value!r} is no log level (DEBUG, INFO, WARNING, ERROR, CRITICAL)")
    return value.upper() if value is not None else None


class LogSettings(BaseModel):
    """How the process logs (on standard error): ``[log]``, ``REGISTRY_LOG__FORMAT``, ...."""

    #: ``text``: a line for people (time, level, logger, message). ``json``: one JSON object a line,
    #: with the node, and on a call its method, principal and request id (:mod:`common.logs`).
    format: Literal["text", "json"] = "text"
    #: The level (DEBUG, INFO, WARNING, ERROR); unset, the older top-level ``log_level`` says.
    level: str | None = None

    _check_level = field_validator("level")(_level)


class NodeSettings(BaseSettings):
    """What every node needs: where to listen, where its data lives, its calendar and time limits."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", env_nested_delimiter="__", extra="forbid")

    #: host:port to serve gRPC on; port 0 picks a free port (the bound one is logged).
    listen: str = "127.0.0.1:50051"
    #: host:port of a plaintext port that serves gRPC health checking (``grpc.health.v1``) and nothing
    #: else, for probes that cannot present a client certificate (Kubernetes' ``grpc`` probes, load
    #: balancers); empty (the default): none. ``listen`` serves health checking too, over mutual TLS.
    health_listen: str = ""
    #: SQLAlchemy URL; a SQLite file by default, PostgreSQL in production.
    database_url: str = "sqlite:///data/node.db"
    #: Threads serving RPCs.
    max_workers: int = Field(default=32, ge=1, le=512)
    #: Seconds in-flight RPCs get to finish on shutdown; streams and calls still open then are cancelled.
    shutdown_grace: float = Field(default=3.0, ge=0)
    #: Seconds a stop (SIGTERM, SIGINT) may take at the most; past it the process exits regardless.
    #: Nothing acknowledged is lost either way: every acknowledgement follows a commit.
    stop_timeout: float = Field(default=10.0, gt=0, le=600)
    #: An operator-supplied working-day schedule (TOML) for years the official data does not cover.
    working_days_file: Path | None = None
    time_limits: TimeLimits = TimeLimits()
    #: Connections to PostgreSQL (``REGISTRY_DATABASE__CONNECTIONS``, ...).
    database: DatabaseSettings = DatabaseSettings()
    #: The log's level; ``[log] level`` wins when both are set (``log_level`` is the older spelling).
    log_level: str = "INFO"
    log: LogSettings = LogSettings()
    #: Seconds between rounds of the node's own work (closing announcements, codes, expiry).
    duties_interval: float = Field(default=5.0, gt=0, le=3600)
    #: Simulation only (demonstrations, tests): start the node's clock at this instant ...
    clock_start: datetime | None = None
    #: ... and run it this many times faster than real time. Production leaves both unset.
    clock_speed: float = Field(default=1.0, gt=0)
    #: ... counting from this real instant (default: when the node starts): give the nodes of one
    #: simulated federation the same start and anchor, and their clocks agree.
    clock_anchor: datetime | None = None
    tls: TlsSettings = TlsSettings()
    auth: AuthSettings = AuthSettings()
    transparency: TransparencySettings = TransparencySettings()
    #: Prometheus metrics (``REGISTRY_METRICS__LISTEN``): off unless set.
    metrics: MetricsSettings = MetricsSettings()

    _check_log_level = field_validator("log_level")(_level)

    @property
    def logging_level(self) -> str:
        """The level the process logs at."""
        return self.log.level or self.log_level

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = _CONFIG_FILE.get()
        if config_file is None:
            return (init_settings, env_settings)
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file))

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Self:
        """Build settings from a TOML file (optional), the environment and ``overrides``."""
        if config_file is not None and not config_file.is_file():
            raise FileNotFoundError(f"configuration file {config_file} does not exist")
        token = _CONFIG_FILE.set(config_file)
        try:
            return cls(**overrides)
        finally:
            _CONFIG_FILE.reset(token)
