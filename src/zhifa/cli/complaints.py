"""``zhifa complaints …``: complaints from the command line. 投诉举报.

- ``import FILE --district X [--dry-run]``: take in a 12345 / 网络理政 export (.xlsx or CSV in
  UTF-8 or GB18030; see docs/import-12345.md), all rows or none; work orders already taken in are
  counted, not repeated (12345 工单导入).

The commands act as the operator: their ledger events carry no actor. Each fails with one clear
line and exit code 1; a refused file lists every problem by row and column first.
"""

from __future__ import annotations

from pathlib import Path

import typer

from zhifa.cli.common import fail, unit_of_work
from zhifa.cli.users import guarded
from zhifa.complaints.importer import ImportReport, import_file
from zhifa.config import get_settings
from zhifa.errors import InvalidInput
from zhifa.kit.district_code import validate_district_code
from zhifa.models.org import District
from zhifa.org.actor import Actor
from zhifa.org.roles import Permission, ScopeLevel
from zhifa.org.scope import DataScope
from zhifa.web.i18n import translate

app = typer.Typer(help="Complaints / 投诉举报", no_args_is_help=True)


def operator(district_code: str) -> Actor:
    """The command line as an actor: the district's intake, and no officer behind it."""
    return Actor(
        officer_id=0,
        username="cli",
        name="命令行",
        district_code=district_code,
        unit_id=None,
        roles=frozenset(),
        permissions=frozenset({Permission.COMPLAINTS_INTAKE}),
        scope=DataScope(ScopeLevel.DISTRICT, frozenset({district_code})),
        via="system",
    )


def _print_report(report: ImportReport) -> None:
    label = "dry run, nothing saved / 试导入，未保存" if report.dry_run else "imported / 已导入"
    typer.echo(
        f"{label}: {report.created} new / 新增 {report.created}, "
        f"{report.already_imported} already imported / 已导入过 {report.already_imported}, "
        f"{report.transferred} transferred / 转办 {report.transferred}"
    )
    for item in report.items:
        if not item.already_imported:
            status = str(item.status) if item.status is not None else "-"
            typer.echo(f"  第{item.row}行 {item.source_ref} → {item.tracking_no or '-'} {status}")


def _print_problems(exc: InvalidInput) -> None:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    for problem in detail.get("problems", []):
        text = translate("zh_CN", problem["message"], **problem["params"])
        typer.echo(f"  第{problem['row']}行 {problem['column']}: {text}", err=True)
    fail(translate("zh_CN", exc.message, **exc.params))


@app.command("import")
def import_work_orders(
    file: Path = typer.Argument(..., help="12345 export, .xlsx or CSV / 12345 工单导出文件"),
    district: str = typer.Option(..., help="District code (GB/T 2260) / 区县代码"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check only / 只校验不保存"),
) -> None:
    """Import 12345 / 网络理政 work orders; all or nothing. 导入 12345 工单."""
    with guarded():
        code = validate_district_code(district)
    try:
        content = file.read_bytes()
    except OSError:
        fail(f"{file}: cannot be read / 无法读取文件")
    with guarded():
        try:
            with unit_of_work() as session:
                if session.get(District, code) is None:
                    fail(f"district {code} does not exist / 区县 {code} 不存在")
                report = import_file(
                    session,
                    operator(code),
                    filename=file.name,
                    content=content,
                    dry_run=dry_run,
                    settings=get_settings(),
                )
        except InvalidInput as exc:
            if isinstance(exc.detail, dict) and "problems" in exc.detail:
                _print_problems(exc)
            raise
    _print_report(report)
