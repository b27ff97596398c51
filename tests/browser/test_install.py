"""The README's "Running in production", followed step by step in a scratch
folder: the folders and their owners, the environment file from
deploy/env.example (read by a shell as the `portal` command reads it), a new
virtualenv from requirements.txt, the migrations on a new PostgreSQL database,
the first admin, `doctor`, the units' own ExecStart lines run as a user that is
not root, nginx with deploy/nginx.conf and a certificate in front, Redis for
the rate limits; then an applicant and an editor in Chromium, through nginx,
from the application to the published interview.

What differs from a real machine: the scratch folder stands for /, the user
`nobody` for `portal`, loopback ports for 80, 443 and 8000, the suite's SMTP
server for the provider's, and a self-signed certificate for certbot's.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
from playwright.sync_api import expect
from sqlalchemy import create_engine

from tests.browser.conftest import CHROMIUM, DESKTOP, PHONE, Portal, act, log_in
from tests.browser.test_journeys import APPLICANT, BUSINESS, fill_application
from tests.conftest import free_port

pytestmark = pytest.mark.database_independent  # it makes its own PostgreSQL database

ROOT = Path(__file__).resolve().parents[2]
HOST = "interviews.example.org"
PASSWORD = "browser-suite-password"  # what conftest.log_in types
ADMIN = "ada@portal-install.org"
POSTGRES = os.environ.get("INSTALL_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"  # `make browser` installs it
REDIS = "redis://127.0.0.1:6379/14"
CODE = ("portal", "templates", "migrations", "deploy", "wsgi.py", "gunicorn.conf.py")


def _run(*command, user=None, **options):
    if user:  # the user's own group, as `sudo -u` gives it
        options.update(group=_service_user()[1], extra_groups=[])
    done = subprocess.run(command, capture_output=True, text=True, user=user, **options)
    assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-3000:])
    return done


def _service_user():
    """`nobody` stands for the `portal` user when the suite runs as root."""
    return ("nobody", "nogroup") if os.geteuid() == 0 else (None, None)


def _exec_start(unit: str, srv: Path) -> str:
    [line] = [
        x for x in (ROOT / "deploy" / unit).read_text().splitlines() if x.startswith("ExecStart=")
    ]
    return line.removeprefix("ExecStart=").replace("/srv/portal", str(srv))


def _environment(unit: str) -> dict[str, str]:
    """The unit's Environment= lines (its EnvironmentFile is read by the shell)."""
    lines = (ROOT / "deploy" / unit).read_text().splitlines()
    return dict(
        x.removeprefix("Environment=").split("=", 1) for x in lines if x.startswith("Environment=")
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _wait(url: str, process: subprocess.Popen, log: Path, context=None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            urllib.request.urlopen(url, timeout=2, context=context)  # noqa: S310
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer: {log.read_text()[-3000:]}")


@pytest.fixture
def scratch():
    folder = Path(tempfile.mkdtemp(prefix="portal-install-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    if os.environ.get("KEEP_INSTALL") != "1":
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database():
    name = f"portal_install_{secrets.token_hex(4)}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRES}/{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_the_production_steps_of_the_readme_give_a_working_site(
    scratch, database, smtp_server, playwright
):
    controller, inbox = smtp_server
    inbox.clear()  # the journeys' applicant has the same address
    user, group = _service_user()
    srv, var, etc = scratch / "srv" / "portal", scratch / "var/lib/portal", scratch / "etc/portal"
    web_port, https_port, http_port = free_port(), free_port(), free_port()
    base = f"https://{HOST}:{https_port}"

    # 1. The code (root's), the portal's folders (its own), the settings.
    srv.mkdir(parents=True)
    for name in CODE + ("requirements.txt",):
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, srv / name)
    for folder in (var, var / "backups"):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o750)
        if user:
            shutil.chown(folder, user, group)
    etc.mkdir(parents=True)

    # Redis's database 14 is this test's: no count left from an earlier run.
    redis.Redis.from_url(REDIS).flushdb()

    # 2. The environment file: env.example with this machine's values. Its quoted
    #    values (the sender's name and address) are read by a shell here.
    values = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database,
        "PUBLIC_URL": base,
        "RATELIMIT_STORAGE_URI": REDIS,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(controller.port),
        "MAIL_USE_TLS": "false",
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
    }
    lines = []
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={values.pop(key)}" if key in values else line)
    lines += [f"GUNICORN_BIND=127.0.0.1:{web_port}", "GUNICORN_WORKERS=2"]
    lines += ["SPAM_MIN_SECONDS=0"]  # a browser fills the form in under five seconds
    env_file = etc / "env"
    env_file.write_text("\n".join(lines) + "\n")
    env_file.chmod(0o640)
    if user:
        shutil.chown(env_file, "root", group)
    wrapper = {
        **os.environ,
        "PORTAL_ENV_FILE": str(env_file),
        "PORTAL_HOME": str(srv),
        "HOME": str(var),
    }
    for variable in ("DATABASE_URL", "PORTAL_ENV", "SECRET_KEY", "PUBLIC_URL", "PHOTO_DIR"):
        wrapper.pop(variable, None)  # nothing comes from the suite's own settings

    def checkup():
        return subprocess.run(
            [str(srv / "deploy" / "portal"), "doctor"],
            capture_output=True,
            text=True,
            user=user,
            group=group,
            extra_groups=[] if user else None,
            env=wrapper,
            cwd=var,
        )

    def portal(*words, input=None):  # noqa: A002
        return _run(
            str(srv / "deploy" / "portal"), *words, user=user, env=wrapper, input=input, cwd=var
        )

    # 3. The virtualenv, the schema, the first admin, the checkup.
    _run("/usr/bin/python3", "-m", "venv", str(srv / ".venv"))
    _run(str(srv / ".venv/bin/pip"), "install", "-q", "-r", str(srv / "requirements.txt"))
    portal("db", "upgrade")
    created = portal(
        "users",
        "create",
        "--email",
        ADMIN,
        "--name",
        "Ada Admin",
        "--role",
        "admin",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert "Created admin Ada Admin" in created.stdout
    doctor = checkup()
    assert doctor.returncode == 1 and "mail worker: never seen" in doctor.stdout, doctor.stdout

    # 4. The services, by their units' own command lines, as the portal's user.
    logs = scratch / "logs"
    logs.mkdir()
    services = []

    def start(name: str, unit: str, command: str) -> tuple[subprocess.Popen, Path]:
        log = logs / f"{name}.log"
        with log.open("w") as output:  # the service keeps its own copy
            process = subprocess.Popen(
                ["sh", "-c", f'set -a; . "{env_file}"; set +a; exec {command}'],
                cwd=srv,
                env={"PATH": "/usr/bin:/bin", "HOME": str(var), **_environment(unit)},
                stdout=output,
                stderr=subprocess.STDOUT,
                user=user,
                group=group,
            )
        services.append(process)
        return process, log

    web = start("web", "portal-web.service", _exec_start("portal-web.service", srv))
    worker = "portal-mail-worker@.service"
    start("mail", worker, _exec_start(worker, srv).replace("%H:mail-%i", "install:mail-1"))

    # 5. nginx in front, with TLS.
    nginx_dir = scratch / "nginx"
    for sub in ("", "temp", "logs"):
        (nginx_dir / sub).mkdir(exist_ok=True)
    _run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        f"/CN={HOST}",
        "-addext",
        f"subjectAltName=DNS:{HOST}",
        "-keyout",
        str(nginx_dir / "key.pem"),
        "-out",
        str(nginx_dir / "cert.pem"),
    )
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = "\n".join(x for x in site.splitlines() if "[::]" not in x)  # loopback IPv4 only
    site = (
        site.replace("interviews.example.org", HOST)
        .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
        .replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
        .replace("/etc/letsencrypt/live/" + HOST + "/fullchain.pem", str(nginx_dir / "cert.pem"))
        .replace("/etc/letsencrypt/live/" + HOST + "/privkey.pem", str(nginx_dir / "key.pem"))
        .replace("http://127.0.0.1:8000", f"http://127.0.0.1:{web_port}")
        .replace("/srv/portal", str(srv))
        .replace("/var/log/nginx/", f"{nginx_dir}/logs/")
        .replace("/var/cache/nginx/portal", f"{nginx_dir}/cache")
    )
    temp = nginx_dir / "temp"
    (nginx_dir / "nginx.conf").write_text(
        f"pid {nginx_dir}/nginx.pid;\nerror_log {nginx_dir}/logs/error.log;\ndaemon off;\n"
        "events {}\nhttp {\n  include /etc/nginx/mime.types;\n"
        f"  access_log {nginx_dir}/logs/access.log;\n"
        + "".join(
            f"  {k}_temp_path {temp}/{k};\n"
            for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + site
        + "\n}\n"
    )
    if user:
        for path in [nginx_dir, *nginx_dir.rglob("*")]:
            shutil.chown(path, user, group)
    _run(NGINX, "-t", "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf"), user=user)
    with (logs / "nginx.log").open("w") as output:
        nginx = subprocess.Popen(
            [NGINX, "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")],
            stdout=output,
            stderr=subprocess.STDOUT,
            user=user,
            group=group,
        )
    services.append(nginx)

    try:
        _wait(f"http://127.0.0.1:{web_port}/healthz", *web)
        unverified = ssl._create_unverified_context()  # noqa: S323 (our own certificate)
        _wait(f"https://127.0.0.1:{https_port}/healthz", nginx, logs / "nginx.log", unverified)
        redirect = urllib.request.Request(f"http://127.0.0.1:{http_port}/apply", method="HEAD")
        with pytest.raises(urllib.error.HTTPError) as moved:
            urllib.request.build_opener(_NoRedirect).open(redirect, timeout=5)
        assert moved.value.code == 301 and moved.value.headers["Location"].startswith("https://")
        deadline = time.monotonic() + 30
        while True:  # until the mail worker's first heartbeat
            doctor = checkup()
            if doctor.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert doctor.returncode == 0, f"doctor on a working install: {doctor.stdout}"
        _journey(playwright, Portal(base, inbox, database, logs), https_port)
    finally:
        for process in services:
            process.terminate()
        for process in services:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    # Every line of the apps' logs carried a time and the request's id or "-".
    web_log = (logs / "web.log").read_text()
    assert "Traceback" not in web_log and " 500 " not in web_log, web_log[-3000:]
    # No private link in either access log: the journey opened two status links.
    nginx_log = (nginx_dir / "logs" / "portal.access.log").read_text()
    assert "/status/[token]/actions/sign_off" in nginx_log
    for text in (web_log, nginx_log):
        assert not re.search(r"/status/(?!\[token\]|resend)[A-Za-z0-9_-]{20,}", text), text
    # One request id in nginx's line and the portal's, for what reached the portal.
    # (nginx serves /static/ and /favicon.ico itself.)
    passed_on = re.findall(
        r'"[A-Z]+ (?!/static/|/favicon\.ico)\S+ HTTP/2.0" [^3]\d\d .* rid=(\w+)', nginx_log
    )
    assert len(passed_on) > 10
    assert all(f"rid={x}" in web_log for x in passed_on), (passed_on, web_log[-2000:])


def _anonymous(url: str) -> tuple[str, str]:
    """A reader with no cookie: (X-Cache, the page)."""
    context = ssl._create_unverified_context()  # noqa: S323 (our own certificate)
    with urllib.request.urlopen(url, timeout=10, context=context) as response:  # noqa: S310
        return response.headers.get("X-Cache", ""), response.read().decode()


def _check_the_proxy_cache(portal: Portal, desk, https_port: int) -> None:
    """nginx keeps public pages for a few seconds, and nothing of an editor's."""
    home = f"https://127.0.0.1:{https_port}/"
    _anonymous(home)
    status, _page = _anonymous(home)
    assert status == "HIT", status
    # The editor's own view of the home page and the desk pass by the cache...
    for path in ("/", "/editor/"):
        seen = desk.goto(portal.url(path))
        assert seen.headers.get("x-cache") in ("BYPASS", None), (path, seen.headers)
    # ...and readers never get the editor's page.
    status, page = _anonymous(home)
    assert status == "HIT" and "/editor/logout" not in page
    assert "/editor/logout" in desk.content()
    for _ in range(2):
        assert _anonymous(f"https://127.0.0.1:{https_port}/editor/login")[0] != "HIT"


def _journey(playwright, portal: Portal, https_port: int) -> None:
    """Apply on a phone, review and publish at a desk, read: all through nginx."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
        ],
    )
    try:
        phone = browser.new_context(viewport=PHONE, ignore_https_errors=True).new_page()
        desk = browser.new_context(viewport=DESKTOP, ignore_https_errors=True).new_page()
        home = phone.goto(portal.url("/"))
        assert home.status == 200
        assert re.fullmatch(r"[0-9a-f]{32}", home.headers["x-request-id"])  # nginx's id
        style = phone.goto(portal.url("/static/style.css"))  # served by nginx itself
        assert style.status == 200 and "x-request-id" not in style.headers
        phone.goto(portal.url("/apply"))
        fill_application(phone, "We hire out sea kayaks")
        phone.get_by_role("button", name="Send my application").click()
        expect(phone.locator(".receipt")).to_be_visible()
        received = portal.mail(APPLICANT, "We received your application")

        log_in(desk, portal, ADMIN)  # the form's CSRF check passes behind nginx
        _check_the_proxy_cache(portal, desk, https_port)
        desk.goto(portal.url("/editor/"))
        desk.get_by_role("link", name="Nadia Okafor").click()
        act(desk, "start_review")
        act(desk, "approve")
        act(desk, "send_proof", "Here is your interview.")
        proof = portal.mail(APPLICANT, "ready for your sign-off")
        phone.goto(portal.link_in(proof, "/status/"))
        phone.locator("form[action$='/actions/sign_off'] button[type=submit]").click()
        expect(phone.locator("body")).to_contain_text("Thank you for signing off")
        desk.reload()
        act(desk, "publish")
        expect(desk.get_by_role("link", name="Public page")).to_be_visible()

        live = portal.mail(APPLICANT, "Your interview is live")
        phone.goto(portal.link_in(live, "/interviews/"))
        expect(phone.locator("main")).to_contain_text("We hire out sea kayaks")
        assert portal.link_in(received, "/status/").startswith(f"https://{HOST}:{https_port}/")
        phone.goto(portal.url("/"))
        expect(phone.locator("main")).to_contain_text(BUSINESS)
    except BaseException:
        for n, page in enumerate((phone, desk)):
            (portal.logs / f"page-{n}.html").write_text(page.content())
            page.screenshot(path=str(portal.logs / f"page-{n}.png"), full_page=True)
        raise
    finally:
        browser.close()
