"""Application files: the examples load into the content they describe; every mistake names file and key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from google.type import date_pb2

from common import uscc
from common.gen.registry.v1 import registration_pb2 as r
from common.registryctl.files import ApplicationFileError, load_application

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"

MINIMAL = """\
data_name = "江苏省企业登记基础信息"

[subject]
name = "江苏省大数据管理中心"
uscc = "12320106MB1C584759"
"""


def _write(folder: Path, text: str, name: str = "application.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> ApplicationFileError:
    with pytest.raises(ApplicationFileError) as caught:
        load_application(path)
    return caught.value


# --- the examples ------------------------------------------------------------------------------------


def test_the_resource_example_loads_into_its_content() -> None:
    content = load_application(EXAMPLES / "application.toml")

    assert content.subject == r.Subject(name="江苏省大数据管理中心", uscc="12320106MB1C584759")
    assert content.data_name == "江苏省企业登记基础信息"
    assert (content.data_type, content.data_format, content.update_frequency) == (
        "结构化数据",
        "数据库表",
        "每日",
    )
    assert content.storage == r.Storage(location="江苏省政务云", method="关系型数据库")
    assert list(content.application_scenarios) == ["企业信用评价", "普惠金融授信辅助"]
    assert content.legal_source and content.evidence_deposit and content.summary
    assert content.security_assessment.sha256 == (
        "58cc4bc5b3736f2371c8c23c36578badfeb5a4491f897287c04a5d7a37fe9983"
    )
    assert content.description.uri.startswith("https://")
    assert content.commitment.title == "公共数据资源登记承诺书"
    assert not content.HasField("agent")
    assert not content.HasField("operation_term")


def test_the_product_example_has_an_agent_and_an_operation_term() -> None:
    content = load_application(EXAMPLES / "product.toml")

    assert content.agent.name == "南京数联登记服务有限公司"
    assert len(content.agent.authorization.sha256) == 64
    assert content.operation_term == r.OperationTerm(
        start=date_pb2.Date(year=2025, month=7, day=1), end=date_pb2.Date(year=2027, month=6, day=30)
    )
    assert len(content.application_scenarios) == 3


@pytest.mark.parametrize("name", ["application.toml", "product.toml"])
def test_the_examples_use_valid_jiangsu_codes(name: str) -> None:
    content = load_application(EXAMPLES / name)
    codes = [content.subject.uscc] + ([content.agent.uscc] if content.HasField("agent") else [])
    for code in codes:
        assert uscc.parse(code).division == "320106"


# --- documents by path ---------------------------------------------------------------------------------


def test_a_document_given_by_path_is_hashed_relative_to_the_application_file(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    pdf = b"%PDF-1.7 assessment\n" * 1000
    (tmp_path / "docs" / "assessment.pdf").write_bytes(pdf)
    file = _write(
        tmp_path,
        MINIMAL + '[security_assessment]\ntitle = "评估报告"\nuri = "https://x/a.pdf"\n'
        'path = "docs/assessment.pdf"\n',
    )

    content = load_application(file)

    assert content.security_assessment == r.Document(
        title="评估报告", uri="https://x/a.pdf", sha256=hashlib.sha256(pdf).hexdigest()
    )


def test_an_absolute_document_path_and_an_agent_authorization_are_hashed(tmp_path: Path) -> None:
    letter = tmp_path / "elsewhere" / "letter.pdf"
    letter.parent.mkdir()
    letter.write_bytes(b"power of attorney")
    file = _write(
        tmp_path / "elsewhere",
        MINIMAL + f'[agent]\nname = "代理"\n[agent.authorization]\ntitle = "委托书"\npath = "{letter}"\n',
    )

    content = load_application(file)

    assert content.agent.authorization.sha256 == hashlib.sha256(b"power of attorney").hexdigest()


def test_a_missing_document_names_the_file_the_key_and_where_it_looked(tmp_path: Path) -> None:
    file = _write(tmp_path, MINIMAL + '[commitment]\ntitle = "承诺书"\npath = "docs/commitment.pdf"\n')

    error = _error(file)

    assert (error.path, error.key) == (file, "commitment.path")
    assert str(error) == f"{file}: commitment.path: no such file: {tmp_path / 'docs' / 'commitment.pdf'}"


def test_a_document_cannot_give_both_sha256_and_path(tmp_path: Path) -> None:
    file = _write(tmp_path, MINIMAL + '[description]\nsha256 = "ab"\npath = "d.pdf"\n')

    error = _error(file)

    assert error.key == "description"
    assert "either sha256 or path" in error.message


# --- shape and type errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ('data_nmae = "x"\n', "data_nmae", "did you mean 'data_name'?"),
        ('[subject]\nname = "x"\nusc = "y"\n', "subject.usc", "did you mean 'uscc'?"),
        ('[storage]\nplace = "x"\n', "storage.place", "expected one of: location, method"),
        ('[commitment]\ntitle = "x"\nurl = "y"\n', "commitment.url", "did you mean 'uri'?"),
        ("[operation_term]\nbegin = 2025-01-01\n", "operation_term.begin", "expected one of: start, end"),
        ('[subject]\nregion = "320000"\n', "subject.region", "unknown key"),
    ],
)
def test_an_unknown_key_is_named_with_a_suggestion(tmp_path: Path, text: str, key: str, hint: str) -> None:
    file = _write(tmp_path, text)

    error = _error(file)

    assert (error.path, error.key) == (file, key)
    assert error.message.startswith("unknown key")
    assert hint in str(error)


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("data_name = 42\n", "data_name", "expected a string, got an integer"),
        ('application_scenarios = "单一场景"\n', "application_scenarios", "expected an array of strings"),
        (
            'application_scenarios = ["a", 2]\n',
            "application_scenarios[1]",
            "expected a string, got an integer",
        ),
        ('subject = "江苏省大数据管理中心"\n', "subject", "expected a table ([subject]), got a string"),
        ('[subject]\ncentral = "no"\n', "subject.central", "expected true or false, got a string"),
        (
            '[operation_term]\nstart = "2025-07-01"\n',
            "operation_term.start",
            "expected a date written without",
        ),
        ("[operation_term]\nend = 2027-06-30T00:00:00\n", "operation_term.end", "got a date-time"),
        ("[storage]\nlocation = [1]\n", "storage.location", "expected a string, got an array"),
        ("[agent]\nauthorization = 1\n", "agent.authorization", "expected a table"),
        ('[description]\npath = ""\n', "description.path", "is empty"),
    ],
)
def test_a_value_of_the_wrong_type_is_named(tmp_path: Path, text: str, key: str, expected: str) -> None:
    file = _write(tmp_path, text)

    error = _error(file)

    assert (error.path, error.key) == (file, key)
    assert expected in error.message
    assert str(error).startswith(f"{file}: {key}: ")


def test_a_missing_application_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"

    error = _error(missing)

    assert str(error) == f"{missing}: no such file"


def test_invalid_toml_says_where(tmp_path: Path) -> None:
    file = _write(tmp_path, '[subject]\nname = "x\n')

    error = _error(file)

    assert error.key is None
    assert error.message.startswith("not valid TOML")
    assert "line 2" in error.message


def test_missing_keys_are_left_for_the_registry_to_report(tmp_path: Path) -> None:
    # Required fields are a business rule: the registry names them all at once in its BadRequest.
    content = load_application(_write(tmp_path, MINIMAL))

    assert content.data_name == "江苏省企业登记基础信息"
    assert content.data_type == ""
    assert not content.HasField("storage")
    assert not content.HasField("security_assessment")


# --- access terms --------------------------------------------------------------------------------------


def test_the_product_example_states_how_it_is_obtained_and_its_fees() -> None:
    terms = load_application(EXAMPLES / "product.toml").access_terms
    assert (terms.sharing_attribute, terms.open_attribute) == (
        r.AccessTerms.CONDITIONALLY_SHARED,
        r.AccessTerms.CONDITIONALLY_OPEN,
    )
    assert terms.sharing_conditions and terms.open_conditions and terms.license
    assert [(c.kind, bool(c.uri)) for c in terms.channels] == [
        (r.AccessChannel.API, True),
        (r.AccessChannel.ON_REQUEST, False),
    ]
    assert terms.contact.department == "江苏省数据集团有限公司客户服务部"
    assert [(f.name, f.price_cny, f.unit) for f in terms.fees] == [
        ("接口调用", "0.05", "次"),
        ("批量查询", "3000", "万户"),
    ]
    resource = load_application(EXAMPLES / "application.toml").access_terms
    assert resource.open_attribute == r.AccessTerms.UNCONDITIONALLY_OPEN and not resource.fees


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        (
            '[access_terms]\nopen_attribute = "not_open"\n',
            "access_terms.open_attribute",
            "did you mean 'NOT_OPEN'?",
        ),
        (
            '[access_terms]\nsharing_attribute = "SHARING_ATTRIBUTE_UNSPECIFIED"\n',
            "access_terms.sharing_attribute",
            "expected one of: UNCONDITIONALLY_SHARED, CONDITIONALLY_SHARED, NOT_SHARED",
        ),
        (
            '[[access_terms.channels]]\nkind = "EMAIL"\n',
            "access_terms.channels[0].kind",
            "unknown value 'EMAIL'",
        ),
        (
            '[[access_terms.channels]]\nkind = "API"\nurl = "https://x.cn"\n',
            "access_terms.channels[0].url",
            "did you mean 'uri'?",
        ),
        ('[access_terms]\nchannels = "API"\n', "access_terms.channels", "expected an array of tables"),
        (
            '[[access_terms.fees]]\nname = "调用"\nprice_cny = 0.05\nunit = "次"\n',
            "access_terms.fees[0].price_cny",
            'such as "0.05"',
        ),
        ('[access_terms.contact]\nperson = "张三"\n', "access_terms.contact.person", "unknown key"),
    ],
)
def test_a_mistake_in_the_access_terms_is_named(tmp_path: Path, text: str, key: str, expected: str) -> None:
    error = _error(_write(tmp_path, MINIMAL + text))
    assert error.key == key and expected in error.message, error
