"""The public ledger as a DCAT-AP 3.0 catalogue (``/api/v1/catalog``), for portals that harvest DCAT-AP
(data.europa.eu and the many national portals that run its harvester), built with rdflib.

Each coded registration is described:

* a data resource is a ``dcat:Dataset``, a product or service a ``dcat:DataService`` (its endpoint: its
  first API channel, or its page on the portal);
* ``dct:identifier`` is its unified registration code; ``dcat:landingPage`` its page on the portal;
* ``dct:publisher`` is its subject, a ``foaf:Agent`` with its name and its USCC as an
  ``adms:Identifier`` (``skos:notation`` typed with the GB 32100 scheme's IRI);
* ``dct:spatial`` is its province-level region, a ``dct:Location`` named by its GB/T 2260 code;
* ``dct:accrualPeriodicity`` its update frequency, on the EU frequency vocabulary
  (``http://publications.europa.eu/resource/authority/frequency``);
* ``dct:accessRights`` its open attribute, on the EU access-right vocabulary (PUBLIC, RESTRICTED,
  NON_PUBLIC); its access channels are ``dcat:Distribution``s (``dcat:accessURL``: the channel's
  address, or the registration's page for a channel on request), each with the licence as
  ``dct:license``; its contact point a ``vcard:Organization``.

Every node has its type, as DCAT-AP's SHACL shapes check classes without inference. The catalogue is
paged: ``page_size`` (default 100, at most 1000) and ``page_token``; a page names the next with
``hydra:next`` in a ``hydra:PartialCollectionView``, as DCAT-AP harvesters page. Formats: Turtle,
RDF/XML and JSON-LD, chosen by ``format`` or by ``Accept``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from rdflib import RDF, RDFS, SKOS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF
from sqlmodel import col, select

from common import regions
from common.gen.registry.v1 import sync_pb2
from national_node.models import LedgerRow, SearchRow
from national_node.portal.deps import PortalDep
from national_node.portal.errors import PortalError
from national_node.portal.service import Portal
from national_node.public import public_access

__all__ = ["catalogue", "router"]

router = APIRouter()

ADMS = Namespace("http://www.w3.org/ns/adms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")
#: The scheme of subjects' identifiers: the unified social credit code (GB 32100-2015).
USCC_SCHEME = URIRef("https://openstd.samr.gov.cn/bzgk/gb/GB32100-2015")

MEDIA_TYPES = {
    "turtle": "text/turtle",
    "xml": "application/rdf+xml",
    "json-ld": "application/ld+json",
}
_FREQUENCIES = (
    ("实时", "UPDATE_CONT"),
    ("每小时", "HOURLY"),
    ("每日", "DAILY"),
    ("每天", "DAILY"),
    ("每周", "WEEKLY"),
    ("每月", "MONTHLY"),
    ("每季", "QUARTERLY"),
    ("半年", "ANNUAL_2"),
    ("每年", "ANNUAL"),
    ("不定期", "IRREG"),
)
_ACCESS_RIGHTS = {
    "UNCONDITIONALLY_OPEN": "PUBLIC",
    "CONDITIONALLY_OPEN": "RESTRICTED",
    "NOT_OPEN": "NON_PUBLIC",
}
_PAGE_DEFAULT, _PAGE_MAX = 100, 1000


def _frequency(text: str) -> URIRef:
    for word, code in _FREQUENCIES:
        if word in text:
            return FREQUENCY[code]
    return FREQUENCY["UNKNOWN"]


def _moment(value: datetime) -> Literal:
    return Literal(value.replace(tzinfo=None).isoformat(timespec="seconds"), datatype=XSD.dateTime)


def _typed(graph: Graph, node: URIRef | BNode, *types: URIRef) -> URIRef | BNode:
    for kind in types:
        graph.add((node, RDF.type, kind))
    return node


def _concept(graph: Graph, concept: URIRef, scheme: str, kind: URIRef) -> URIRef:
    _typed(graph, concept, kind, SKOS.Concept)
    graph.add((concept, SKOS.inScheme, URIRef(scheme)))
    graph.add((concept, SKOS.prefLabel, Literal(concept.rsplit("/", 1)[-1], lang="en")))
    return concept


def _describe(graph: Graph, base: str, row: SearchRow, record: sync_pb2.RegistrationRecord | None) -> URIRef:
    page = URIRef(f"{base}registrations/{row.uid}")
    node = URIRef(f"{base}registrations/{row.uid}#it")
    access = public_access(record.registration.content.access_terms) if record is not None else None
    service = row.object_type == "DATA_PRODUCT_OR_SERVICE"
    _typed(graph, node, DCAT.DataService if service else DCAT.Dataset)
    graph.add((node, DCTERMS.title, Literal(row.data_name, lang="zh")))
    graph.add((node, DCTERMS.description, Literal(row.summary or row.data_name, lang="zh")))
    graph.add((node, DCTERMS.identifier, Literal(row.code or row.uid)))
    graph.add((node, DCAT.landingPage, _typed(graph, page, FOAF.Document)))
    graph.add((node, DCTERMS.issued, _moment(row.created_at)))
    graph.add((node, DCTERMS.modified, _moment(row.updated_at)))
    # The subject, with its USCC.
    agent = _typed(graph, URIRef(f"{base}api/v1/catalog/agents/{row.subject_uscc}"), FOAF.Agent)
    graph.add((agent, FOAF.name, Literal(row.subject_name, lang="zh")))
    identifier = _typed(graph, BNode(f"id-{row.subject_uscc}"), ADMS.Identifier)
    graph.add((identifier, SKOS.notation, Literal(row.subject_uscc, datatype=USCC_SCHEME)))
    graph.add((agent, ADMS.identifier, identifier))
    graph.add((node, DCTERMS.publisher, agent))
    # Where: the province-level region (GB/T 2260).
    region = regions.get(row.region) if regions.is_region(row.region) else None
    place = _typed(graph, URIRef(f"{base}api/v1/catalog/regions/{row.region}"), DCTERMS.Location)
    graph.add((place, SKOS.notation, Literal(row.region)))
    graph.add((place, SKOS.prefLabel, Literal(region.name if region else row.region, lang="zh")))
    graph.add((node, DCTERMS.spatial, place))
    if not service:
        frequency = _frequency(row.update_frequency)
        graph.add(
            (
                node,
                DCTERMS.accrualPeriodicity,
                _concept(graph, frequency, str(FREQUENCY).rstrip("/"), DCTERMS.Frequency),
            )
        )
    if row.open_attribute in _ACCESS_RIGHTS:
        right = ACCESS_RIGHT[_ACCESS_RIGHTS[row.open_attribute]]
        graph.add(
            (
                node,
                DCTERMS.accessRights,
                _concept(graph, right, str(ACCESS_RIGHT).rstrip("/"), DCTERMS.RightsStatement),
            )
        )
    if access is None:
        return node
    contact = access["contact"]
    if contact["department"] or contact["phone"] or contact["email"]:
        card = _typed(graph, BNode(f"contact-{row.uid}"), VCARD.Organization, VCARD.Kind)
        graph.add((card, VCARD.fn, Literal(contact["department"] or row.subject_name, lang="zh")))
        if contact["phone"]:
            graph.add((card, VCARD.hasTelephone, URIRef("tel:" + contact["phone"].replace(" ", ""))))
        if contact["email"]:
            graph.add((card, VCARD.hasEmail, URIRef("mailto:" + contact["email"])))
        graph.add((node, DCAT.contactPoint, card))
    licence = None
    if access["license"]:
        licence = _typed(graph, BNode(f"licence-{row.uid}"), DCTERMS.LicenseDocument)
        graph.add((licence, RDFS.label, Literal(access["license"], lang="zh")))
    endpoint = page
    for i, channel in enumerate(access["channels"]):
        url = URIRef(channel["uri"]) if channel["uri"] and channel["linkable"] else page
        if service:
            if channel["kind"] == "API" and endpoint == page:
                endpoint = url
            continue
        distribution = _typed(
            graph, URIRef(f"{base}registrations/{row.uid}#distribution-{i}"), DCAT.Distribution
        )
        graph.add((distribution, DCAT.accessURL, _typed(graph, url, RDFS.Resource)))
        graph.add(
            (distribution, DCTERMS.title, Literal(channel["description"] or channel["kind_label"], lang="zh"))
        )
        graph.add((distribution, DCTERMS.description, Literal(channel["kind_label"], lang="zh")))
        if licence is not None:
            graph.add((distribution, DCTERMS.license, licence))
        graph.add((node, DCAT.distribution, distribution))
    if service:
        graph.add((node, DCAT.endpointURL, _typed(graph, endpoint, RDFS.Resource)))
        if licence is not None:
            graph.add((node, DCTERMS.license, licence))
    return node


def catalogue(portal: Portal, base: str, page_size: int, after: str) -> tuple[Graph, str]:
    """A page of the catalogue, and the uid the next page starts after (empty: the last page)."""
    with portal.search.db.transaction(write=False) as session:
        statement = select(SearchRow).where(col(SearchRow.code).is_not(None)).order_by(col(SearchRow.uid))
        if after:
            statement = statement.where(col(SearchRow.uid) > after)
        rows = list(session.exec(statement.limit(page_size + 1)).all())
        more = len(rows) > page_size
        rows = rows[:page_size]
        uids = [row.uid for row in rows]
        records = (
            {
                uid: sync_pb2.RegistrationRecord.FromString(record)
                for uid, record in session.exec(
                    select(LedgerRow.uid, LedgerRow.record).where(col(LedgerRow.uid).in_(uids))
                ).all()
            }
            if uids
            else {}
        )
        session.expunge_all()
    graph = Graph()
    for prefix, namespace in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("adms", ADMS),
        ("vcard", VCARD),
        ("hydra", HYDRA),
        ("skos", SKOS),
    ):
        graph.bind(prefix, namespace)
    catalog = _typed(graph, URIRef(f"{base}api/v1/catalog"), DCAT.Catalog)
    graph.add((catalog, DCTERMS.title, Literal("国家公共数据资源登记平台", lang="zh")))
    graph.add(
        (catalog, DCTERMS.description, Literal("全国公共数据资源登记一本账：每一条已赋码的登记。", lang="zh"))
    )
    publisher = _typed(graph, URIRef(f"{base}api/v1/catalog/agents/national-data-administration"), FOAF.Agent)
    graph.add((publisher, FOAF.name, Literal("国家数据局", lang="zh")))
    graph.add((catalog, DCTERMS.publisher, publisher))
    graph.add((catalog, FOAF.homepage, _typed(graph, URIRef(base), FOAF.Document)))
    for row in rows:
        node = _describe(graph, base, row, records.get(row.uid))
        graph.add(
            (catalog, DCAT.service if row.object_type == "DATA_PRODUCT_OR_SERVICE" else DCAT.dataset, node)
        )
    next_after = rows[-1].uid if more and rows else ""
    view = _typed(
        graph,
        URIRef(f"{base}api/v1/catalog?page_size={page_size}" + (f"&page_token={after}" if after else "")),
        HYDRA.PartialCollectionView,
    )
    graph.add((view, HYDRA.first, URIRef(f"{base}api/v1/catalog?page_size={page_size}")))
    if next_after:
        graph.add(
            (view, HYDRA.next, URIRef(f"{base}api/v1/catalog?page_size={page_size}&page_token={next_after}"))
        )
    graph.add((catalog, HYDRA.view, view))
    return graph, next_after


def _format(request: Request, chosen: str) -> str:
    if chosen:
        if chosen not in MEDIA_TYPES:
            raise PortalError(
                400, "INVALID_ARGUMENT", f"format must be one of {', '.join(MEDIA_TYPES)}", field="format"
            )
        return chosen
    accept = request.headers.get("accept", "")
    for name, media in (("json-ld", "application/ld+json"), ("xml", "application/rdf+xml")):
        if media in accept:
            return name
    return "turtle"


@router.get(
    "/api/v1/catalog",
    summary="The public ledger as a DCAT-AP 3.0 catalogue",
    tags=["catalogue"],
    responses={
        200: {
            "content": {media: {} for media in MEDIA_TYPES.values()},
            "description": "A page of the catalogue.",
        },
        400: {"description": "A malformed parameter."},
    },
    response_class=Response,
)
def catalog(
    request: Request,
    portal: PortalDep,
    format: Annotated[
        str,
        Query(
            pattern="^(|turtle|xml|json-ld)$",
            description="turtle, xml (RDF/XML) or json-ld; default: by Accept",
        ),
    ] = "",
    page_size: Annotated[
        int, Query(ge=1, le=_PAGE_MAX, description="Registrations per page.")
    ] = _PAGE_DEFAULT,
    page_token: Annotated[
        str, Query(max_length=36, pattern=r"^[0-9a-f-]*$", description="From hydra:next.")
    ] = "",
) -> Response:
    chosen = _format(request, format)
    graph, _ = catalogue(portal, str(request.base_url), page_size, page_token)
    body = graph.serialize(format=chosen)
    return Response(body, media_type=MEDIA_TYPES[chosen] + ("; charset=utf-8" if chosen == "turtle" else ""))
