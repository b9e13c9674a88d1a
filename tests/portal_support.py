"""A federation with a public portal and registrations to find: seeded through the province's own
procedure (in-process, on its database, before the node starts), then synced up to the national ledger
by the real nodes, which code the ones whose announcement is over.

Registrations seeded "coded" are announced on a day in the past: when the provincial node starts, its
duties find their announcements over, ask the national node for codes, and the ledger (and so the
search index) gets them ACTIVE with their codes. "announced" ones are announced today and take
objections for ten working days.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import grpc

from common.calendar import WorkingCalendar
from common.db import Database, migrate
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc
from common.paging import PageTokens
from common.registration.procedure import Procedure
from common.registration.service import RegistrationServicer
from common.settings import TimeLimits
from provincial_node.changelog import ChangeLog
from provincial_node.jurisdiction import ProvincialJurisdiction
from provincial_node.server import MIGRATIONS
from tests.factories import acting, make_content, make_uscc
from tests.nodes import NodeProcess, free_port, wait_until
from tests.trust import client_certificate, metadata, token, trust

__all__ = ["PortalFederation", "Seed", "seed_province", "start_portal_federation"]


@dataclass(frozen=True)
class Seed:
    """One registration to seed."""

    data_name: str
    subject_name: str = "江苏省大数据管理中心"
    uscc: str = ""
    object_type: int = 1
    summary: str = "全省范围内按日汇总的统计数据"
    update_frequency: str = "每日"
    scenarios: tuple[str, ...] = ("政务服务",)
    #: "coded" (ACTIVE with a code), "announced" (taking objections), "submitted".
    stage: str = "coded"
    #: The day an "announced" one is announced (default today): a day years ahead gives it an end in a
    #: year the published working-day calendar does not cover yet (provisional).
    announce_on: date | None = None
    #: Never public: storage, documents and the like carry this marker, which no page may show.
    secret: str = "机房甲-机柜07"
    #: How the data is obtained, if the registration says.
    access_terms: r.AccessTerms | None = None


class _Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return (self.at + timedelta(hours=8)).date()


def seed_province(database_url: str, region: str, seeds: Iterable[Seed]) -> dict[str, str]:
    """Seed the province's database; returns each data name's registration name."""
    db = Database(database_url)
    migrate(db.engine, MIGRATIONS)
    past = _Clock(datetime.now(UTC) - timedelta(days=45))
    now = _Clock(datetime.now(UTC))
    names: dict[str, str] = {}
    seeder = acting("seed")
    for seed in seeds:
        clock = past if seed.stage == "coded" else now
        if seed.announce_on is not None:
            clock = _Clock(datetime.combine(seed.announce_on, time(2), tzinfo=UTC))
        procedure = Procedure(
            node=region,
            calendar=WorkingCalendar(),
            limits=TimeLimits(),
            clock=clock,
            jurisdiction=ProvincialJurisdiction(region),
            on_change=ChangeLog(clock).record,
            separation_of_duties=False,
        )
        service = RegistrationServicer(db, procedure, clock, PageTokens(db.secret("page_tokens")))
        content = make_content(seed.uscc or make_uscc(region[:2] + "0106"), data_name=seed.data_name)
        content.subject.name = seed.subject_name
        content.summary = seed.summary
        content.update_frequency = seed.update_frequency
        del content.application_scenarios[:]
        content.application_scenarios.extend(seed.scenarios)
        content.storage.location = seed.secret
        content.legal_source = seed.secret
        if seed.access_terms is not None:
            content.access_terms.CopyFrom(seed.access_terms)
        name = service.CreateRegistration(
            rs.CreateRegistrationRequest(
                parent=f"nodes/{region}",
                registration=r.Registration(object_type=seed.object_type, content=content),
                request_id=str(uuid.uuid4()),
            ),
            seeder,
        ).name
        names[seed.data_name] = name
        if seed.stage == "submitted":
            continue
        for step, request in (
            (service.AcceptApplication, rs.AcceptApplicationRequest(name=name, request_id=str(uuid.uuid4()))),
            (
                service.ApproveApplication,
                rs.ApproveApplicationRequest(name=name, request_id=str(uuid.uuid4())),
            ),
            (
                service.AnnounceApplication,
                rs.AnnounceApplicationRequest(name=name, request_id=str(uuid.uuid4())),
            ),
        ):
            step(request, seeder)  # type: ignore[operator]
    db.dispose()
    return names


@dataclass
class PortalFederation:
    national: NodeProcess
    province: NodeProcess
    portal: NodeProcess
    national_db: str
    names: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.portal.address

    def registration_stub(self) -> tuple[grpc.Channel, registration_service_pb2_grpc.RegistrationServiceStub]:
        channel = self.province.channel()
        return channel, registration_service_pb2_grpc.RegistrationServiceStub(channel)

    def deregister(self, name: str) -> None:
        """Deregister a coded registration at its province (applied for, accepted and approved)."""
        channel, stub = self.registration_stub()
        try:
            stub.SubmitApplication(
                rs.SubmitApplicationRequest(
                    name=name, type=r.DEREGISTRATION, reason="停止采集", request_id=str(uuid.uuid4())
                ),
                metadata=metadata(token()),
                timeout=10,
            )
            for step, request in (
                (
                    stub.AcceptApplication,
                    rs.AcceptApplicationRequest(name=name, request_id=str(uuid.uuid4())),
                ),
                (
                    stub.ApproveApplication,
                    rs.ApproveApplicationRequest(name=name, request_id=str(uuid.uuid4())),
                ),
            ):
                step(request, metadata=metadata(token()), timeout=10)  # type: ignore[operator]
        finally:
            channel.close()

    def stop(self) -> None:
        for process in (self.portal, self.province, self.national):
            process.kill()


def portal_env(national_address: str, database_url: str, **extra: str) -> dict[str, str]:
    local = trust()
    cert, key = client_certificate("portal")
    return {
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_PORTAL__LISTEN": "127.0.0.1:0",
        "REGISTRY_PORTAL__NATIONAL_ADDRESS": national_address,
        "REGISTRY_PORTAL__CERT_FILE": str(cert),
        "REGISTRY_PORTAL__KEY_FILE": str(key),
        "REGISTRY_PORTAL__LOG_VERIFIER_KEYS_FILE": str(local.log_verifier_keys_file),
        "REGISTRY_TRANSPARENCY__WITNESS_KEYS_FILE": str(local.witness_keys_file),
        "REGISTRY_TLS__CA_FILE": str(local.ca_file),
        # Counts read fresh: the tests change the ledger and look again at once.
        "REGISTRY_PORTAL__COUNT_CACHE_SECONDS": "0",
        **extra,
    }


def start_portal_federation(
    tmp_path: Path, seeds: Iterable[Seed], *, database_url: str = "", portal: dict[str, str] | None = None
) -> PortalFederation:
    """A national node, Jiangsu's node with ``seeds`` registered, and the portal; returns once every
    seeded registration is in the national ledger (the coded ones with their codes)."""
    seeds = list(seeds)
    national_dir, province_dir = tmp_path / "national", tmp_path / "jiangsu"
    national_dir.mkdir()
    province_dir.mkdir()
    province_url = f"sqlite:///{province_dir / 'jiangsu.db'}"
    names = seed_province(province_url, "320000", seeds)
    national_url = database_url or f"sqlite:///{national_dir / 'national.db'}"
    port, province_port = free_port(), free_port()
    national = NodeProcess(
        "national_node",
        env={
            "REGISTRY_LISTEN": f"127.0.0.1:{port}",
            "REGISTRY_DATABASE_URL": national_url,
            # The directory names the province's address: the portal asks it for its business rules.
            "REGISTRY_PROVINCIAL_NODES": f'[{{"region": "320000", "address": "127.0.0.1:{province_port}"}}]',
        },
        cwd=national_dir,
    ).start()
    province = NodeProcess(
        "provincial_node",
        env={
            "REGISTRY_REGION": "320000",
            "REGISTRY_LISTEN": f"127.0.0.1:{province_port}",
            "REGISTRY_NATIONAL_ADDRESS": national.address,
            "REGISTRY_NATIONAL_TIMEOUT": "2",
            "REGISTRY_DATABASE_URL": province_url,
            "REGISTRY_DUTIES_INTERVAL": "0.2",
        },
        cwd=province_dir,
    ).start()
    site = NodeProcess(
        "national_node.portal",
        env=portal_env(national.address, national_url, **(portal or {})),
        cwd=national_dir,
        ready="serving on",
    ).start()
    federation = PortalFederation(national, province, site, national_url, names)
    coded = sum(1 for s in seeds if s.stage == "coded")
    wait_until(
        lambda: _ledger_counts(national_url) == (len(seeds), coded), timeout=60, message="the seeded ledger"
    )
    return federation


def _ledger_counts(database_url: str) -> tuple[int, int]:
    from sqlmodel import func, select

    from national_node.models import SearchRow

    db = Database(database_url, pool_size=1)
    try:
        with db.transaction(write=False) as session:
            total = session.exec(select(func.count()).select_from(SearchRow)).one()
            coded = session.exec(
                select(func.count()).select_from(SearchRow).where(SearchRow.state == "ACTIVE")
            ).one()
        return int(total), int(coded)
    except Exception:  # the national node has not migrated its database yet
        return -1, -1
    finally:
        db.dispose()
