"""``zhifa serve``: run the web application with uvicorn. 启动服务."""

from __future__ import annotations

import typer
import uvicorn


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on / 监听地址"),
    port: int = typer.Option(8000, help="Port / 端口"),
    workers: int = typer.Option(1, help="Worker processes (PostgreSQL only) / 进程数"),
    reload: bool = typer.Option(False, help="Reload on code change (development) / 开发热加载"),
) -> None:
    """Serve zhifa over HTTP. 提供 Web 服务."""
    uvicorn.run(
        "zhifa.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
    )
