"""``zhifa catalog …``: the enforcement catalog from the command line. 权责清单.

- ``import-law FILE``: import one statute revision from LawRefBook Markdown (法律法规导入).
- ``load-sample-laws``: import the statutes shipped with zhifa (示例法律法规).
- ``import FILE…``: import powers, benchmarks, check items and checklists from ``.xlsx`` or CSV
  (docs/catalog-format.md) into a district, all or nothing (清单导入).
- ``export OUT``: write a district's catalog in the same layout (清单导出).
- ``load-sample DISTRICT``: the sample statutes and the sample catalog (示例清单).

The commands act as the operator: their ledger events carry no actor. Each fails with one clear
line and exit code 1.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import typer
from pydantic import ValidationError

from zhifa.catalog.exchange import exporter
from zhifa.catalog.exchange.importer import ImportRefused, ImportReport, import_files
from zhifa.catalog.laws.schemas import NATIONAL, LawMeta
from zhifa.catalog.laws.service import law_service
from zhifa.catalog.sample.loader import load_sample_catalog
from zhifa.catalog.service import Author
from zhifa.cli.common import fail, unit_of_work
from zhifa.cli.users import guarded
from zhifa.kit.clock import today_local
from zhifa.kit.district_code import validate_district_code
from zhifa.models.catalog import LawKind
from zhifa.web.i18n import translate

app = typer.Typer(help="Enforcement catalog / 权责清单", no_args_is_help=True)

FILE_DATE = re.compile(r"[(（](\d{4}-\d{2}-\d{2})[)）]")


def _date(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date YYYY-MM-DD / 日期格式应为 YYYY-MM-DD")


def _revision_date(path: Path, given: str | None) -> date:
    found = _date(given, "--revision-date")
    if found is not None:
        return found
    match = FILE_DATE.search(path.name)
    if match is None:
        fail(
            f"{path.name}: no (YYYY-MM-DD) in the file name; pass --revision-date / "
            "文件名中没有修订日期，请用 --revision-date 指定"
        )
    return _date(match.group(1), "file name date") or fail("no revision date")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file / 文件不存在")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot be read as UTF-8 text ({type(exc).__name__}) / 无法读取文件")


@app.command("import-law")
def import_law(
    file: Path = typer.Argument(
        ..., help="Statute in LawRefBook Markdown / 法律法规 Markdown 文件"
    ),
    kind: LawKind = typer.Option(..., help="Rank / 法律位阶"),
    issuing_body: str = typer.Option(..., help="Issuing body / 制定机关"),
    effective_on: str = typer.Option(..., help="YYYY-MM-DD this revision takes effect / 施行日期"),
    revision_date: str | None = typer.Option(
        None,
        help="YYYY-MM-DD of this revision; default: the (YYYY-MM-DD) in the file name / 修订日期",
    ),
    promulgated_on: str | None = typer.Option(None, help="YYYY-MM-DD first promulgated / 公布日期"),
    jurisdiction: str = typer.Option(
        NATIONAL, help="'national' or the region it applies in / 适用地域"
    ),
    title: str | None = typer.Option(None, help="Title, if not the file's # heading / 标题"),
) -> None:
    """Import one revision of a law or regulation; a second import changes nothing. 导入法规."""
    try:
        meta = LawMeta(
            kind=kind,
            issuing_body=issuing_body,
            jurisdiction=jurisdiction,
            promulgated_on=_date(promulgated_on, "--promulgated-on"),
            revision_date=_revision_date(file, revision_date),
            effective_on=_date(effective_on, "--effective-on")
            or fail("--effective-on is required"),
            title=title,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "dates"
        problem = str(error["msg"]).removeprefix("Value error, ")
        fail(f"invalid input / 输入有误: {where}: {problem}")
    text = _read(file)
    with guarded(), unit_of_work() as session:
        result = law_service.import_markdown(
            session, actor_id=None, text=text, source_name=file.name, meta=meta
        )
        name = result.document.title
    if result.created:
        typer.echo(
            f"imported 《{name}》: {result.provisions} provisions / 已导入 {result.provisions} 条"
        )
    else:
        typer.echo(f"unchanged: 《{name}》 is already imported / 已导入过，未作更改")


@app.command("load-sample-laws")
def load_sample_laws() -> None:
    """Import the statutes shipped with zhifa; running it again adds nothing. 导入示例法律法规."""
    with guarded(), unit_of_work() as session:
        created = law_service.load_sample(session)
    typer.echo(f"loaded {created} new legal documents / 新导入 {created} 部法律法规")


def _district(code: str) -> str:
    with guarded():
        return validate_district_code(code)


def _print_report(report: ImportReport) -> None:
    label = "dry run, nothing saved / 试导入，未保存" if report.dry_run else "imported / 已导入"
    counts = ", ".join(
        f"{name} +{tally.created} ={tally.unchanged}" for name, tally in report.counts.items()
    )
    typer.echo(f"{label}: {counts}")


def _print_problems(exc: ImportRefused) -> None:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    for problem in detail.get("problems", []):
        text = translate("zh_CN", problem["message"], **problem["params"])
        where = f"{problem['sheet']} 第{problem['row']}行 {problem['column']}"
        typer.echo(f"  {where}: {text}", err=True)
    fail(translate("zh_CN", exc.message, **exc.params))


@app.command("import")
def import_catalog(
    files: list[Path] = typer.Argument(..., help=".xlsx or CSV files / Excel 或 CSV 文件"),
    district: str = typer.Option(..., help="District code (GB/T 2260) / 区县代码"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate only / 只校验不保存"),
) -> None:
    """Import powers, benchmarks, check items and checklists; all or nothing. 导入权责清单."""
    code = _district(district)
    contents = []
    for path in files:
        try:
            contents.append((path.name, path.read_bytes()))
        except OSError:
            fail(f"{path}: cannot be read / 无法读取文件")
    with guarded():
        try:
            with unit_of_work() as session:
                report = import_files(session, Author(None, code, "cli"), contents, dry_run=dry_run)
        except ImportRefused as exc:  # rolled back; list every problem, not just the summary
            _print_problems(exc)
    _print_report(report)


@app.command("export")
def export_catalog(
    out: Path = typer.Argument(..., help="catalog.xlsx, or a folder for CSV files / 输出文件"),
    district: str = typer.Option(..., help="District code (GB/T 2260) / 区县代码"),
    on: str | None = typer.Option(None, help="As on YYYY-MM-DD (default today) / 截至日期"),
) -> None:
    """Write a district's catalog in the import layout. 导出权责清单."""
    code = _district(district)
    day = _date(on, "--on") or today_local()
    with guarded(), unit_of_work() as session:
        if out.suffix.lower() == ".xlsx":
            out.write_bytes(exporter.export_xlsx(session, code, day))
            typer.echo(f"wrote {out} / 已导出")
            return
        out.mkdir(parents=True, exist_ok=True)
        for name, content in exporter.export_csv(session, code, day).items():
            (out / name).write_bytes(content)
    typer.echo(f"wrote CSV files to {out} / 已导出 CSV")


@app.command("load-sample")
def load_sample(
    district: str = typer.Argument(..., help="District code (GB/T 2260) / 区县代码"),
) -> None:
    """Load the sample statutes and the sample catalog (to be verified locally). 示例清单."""
    code = _district(district)
    with guarded(), unit_of_work() as session:
        laws, report = load_sample_catalog(session, code)
    typer.echo(f"sample statutes +{laws} / 示例法律法规")
    _print_report(report)
