"""`mac view`: a small aiohttp server on 127.0.0.1 that lists the jobs of a jobs folder and serves each job's
report, regenerated on every request so it follows trials as they finish (the page reloads itself while
any trial is still running).

    GET /                      the job list
    GET /job/<job>             the job's HTML report
    GET /job/<job>/report.json the job's leaderboard as JSON (as `mac report --json`)
"""

from __future__ import annotations

import asyncio
import time
from html import escape
from pathlib import Path

from aiohttp import web

from mac.errors import ConfigError
from mac.report.assets import CSS, content_security_policy
from mac.report.baselines import BASELINES_FOLDER
from mac.report.html import job_report, render_html
from mac.report.load import trial_dirs
from mac.store.paths import check_name

REFRESH_SEC = 10
"""Reload interval of a job page while trials are running."""


def list_jobs(jobs_dir: Path) -> list[Path]:
    """Job folders, newest first: folders (not the baselines folder) with a job.json or at least one trial."""
    if not jobs_dir.is_dir():
        return []
    jobs = [d for d in jobs_dir.iterdir() if d.is_dir() and not d.is_symlink() and d.name != BASELINES_FOLDER
            and ((d / "job.json").is_file() or trial_dirs(d))]
    return sorted(jobs, key=lambda d: (-d.stat().st_mtime, d.name))


def _headers() -> dict[str, str]:
    return {"Content-Security-Policy": content_security_policy(), "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def make_app(jobs_dir: Path, *, refresh_sec: int = REFRESH_SEC) -> web.Application:
    jobs_dir = Path(jobs_dir)

    def job_dir(request: web.Request) -> Path:
        try:
            name = check_name(request.match_info["job"], "job")
        except ConfigError:
            raise web.HTTPNotFound(text="no such job") from None
        folder = jobs_dir / name
        if name == BASELINES_FOLDER or not folder.is_dir() or folder.is_symlink():
            raise web.HTTPNotFound(text="no such job")
        return folder

    async def index(request: web.Request) -> web.Response:
        page = await asyncio.to_thread(_index_page, jobs_dir, refresh_sec)
        return web.Response(text=page, content_type="text/html", headers=_headers())

    async def job_page(request: web.Request) -> web.Response:
        folder = job_dir(request)
        page = await asyncio.to_thread(_job_page, folder, refresh_sec)
        return web.Response(text=page, content_type="text/html", headers=_headers())

    async def job_json(request: web.Request) -> web.Response:
        folder = job_dir(request)
        report, _ = await asyncio.to_thread(job_report, [folder], with_files=False)
        return web.Response(text=report.model_dump_json(indent=2), content_type="application/json",
                            headers=_headers())

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/job/{job}", job_page)
    app.router.add_get("/job/{job}/report.json", job_json)
    return app


def _job_page(folder: Path, refresh_sec: int) -> str:
    report, views = job_report([folder])
    running = any(t.status == "running" for t in report.trials)
    return render_html(report, views, refresh_sec=refresh_sec if running else None, home_href="/")


def _index_page(jobs_dir: Path, refresh_sec: int) -> str:
    rows = []
    any_running = False
    for folder in list_jobs(jobs_dir):
        report, _ = job_report([folder], with_files=False)
        statuses = [t.status for t in report.trials]
        any_running |= "running" in statuses
        summary = ", ".join([f"{statuses.count(s)} {s}" for s in sorted(set(statuses))]
                            + ([f"{len(report.problems)} unreadable"] if report.problems else []))
        sim = ' <span class="badge sim">SIMULATED</span>' if report.simulated else ""
        modified = time.strftime("%Y-%m-%d %H:%M", time.localtime(folder.stat().st_mtime))
        rows.append(f'<tr><td><a href="/job/{escape(folder.name)}">{escape(folder.name)}</a>{sim}</td>'
                    f"<td class='num'>{len(statuses)}</td><td>{escape(summary)}</td><td>{modified}</td></tr>")
    table = ("<table><tr><th>job</th><th class='num'>trials</th><th>status</th><th>modified</th></tr>"
             + "".join(rows) + "</table>") if rows else f"<p class='meta'>no jobs in {escape(str(jobs_dir))}</p>"
    refresh = f'<meta http-equiv="refresh" content="{refresh_sec}">' if any_running else ""
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{escape(content_security_policy())}\">"
            f"{refresh}<title>MAC jobs</title><style>{CSS}</style></head><body><header><h1>MAC jobs</h1>"
            f"<div class='meta'>{escape(str(jobs_dir))}</div></header><main>{table}</main></body></html>")


async def serve(jobs_dir: Path, *, port: int = 8765) -> tuple[web.AppRunner, int]:
    """Start the server on 127.0.0.1 only (reports show artifact source and logs) and return its runner and
    bound port (`port=0`: any free port). The caller keeps the loop alive and calls `runner.cleanup()`."""
    runner = web.AppRunner(make_app(jobs_dir), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, runner.addresses[0][1]
