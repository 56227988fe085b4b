"""``zhifa districts create|list``: the districts (tenants) of a deployment. 区县管理.

A new deployment starts empty: the operator creates the first district here, then its first
administrator with ``zhifa users create``; everything else is done in the web UI. The command acts
as the operator: its ledger event carries no actor and ``{"via": "cli"}``.
"""

from __future__ import annotations

import typer
from pydantic import ValidationError

from zhifa.cli.common import fail, unit_of_work
from zhifa.cli.users import guarded
from zhifa.org.schemas import DistrictCreate
from zhifa.org.service import district_service

app = typer.Typer(help="Districts / 区县", no_args_is_help=True)


@app.command("create")
def create(
    code: str = typer.Option(..., help="GB/T 2260 county-level code / 区划代码"),
    name: str = typer.Option(..., help="Name / 名称"),
    bureau_name: str = typer.Option("", help="Bureau name / 执法局名称"),
    center_lon: float | None = typer.Option(None, help="Centre longitude (WGS-84) / 中心经度"),
    center_lat: float | None = typer.Option(None, help="Centre latitude (WGS-84) / 中心纬度"),
) -> None:
    """Create a district. 新建区县."""
    try:
        data = DistrictCreate(
            code=code,
            name=name,
            bureau_name=bureau_name,
            center_lon=center_lon,
            center_lat=center_lat,
        )
    except ValidationError as exc:
        fail(f"invalid input / 输入有误: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")
    with guarded(), unit_of_work() as session:
        row = district_service.create_by_operator(session, data=data)
        typer.echo(f"created district {row.code} {row.name} (city {row.city_code})")


@app.command("list")
def list_districts() -> None:
    """List the districts. 列出区县."""
    with guarded(), unit_of_work() as session:
        for row in district_service.list_by_operator(session):
            flag = " (fictional / 虚构)" if row.fictional else ""
            typer.echo(f"{row.code}  {row.name}{flag}")
