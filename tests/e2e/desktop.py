"""Helpers to run the real Pith app under Xvfb and drive it like a person.

- a private Xvfb screen per test class;
- tauri-driver + WebKitWebDriver for the DOM, spoken to over plain HTTP;
- xdotool for windows and keys, ImageMagick `import` for screenshots.
Screenshots land in tests/e2e/out/ (ignored by git).
"""
import functools
import hashlib
import http.client
import http.server
import threading
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "e2e" / "out"


def app_binary():
    path = os.environ.get("PITH_DESKTOP_BIN")
    if not path or not os.path.isfile(path):
        raise RuntimeError("set PITH_DESKTOP_BIN to the built pith-desktop binary (./pith.sh test does)")
    return path


def free_display():
    for n in range(90, 200):
        if not os.path.exists(f"/tmp/.X{n}-lock") and not os.path.exists(f"/tmp/.X11-unix/X{n}"):
            return f":{n}"
    raise RuntimeError("no free X display number")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_cpu_seconds():
    """CPU time used so far by every running Pith app and its web views.

    Waits follow it: while the app works (loads a model, evaluates a
    prompt, writes a reply), its CPU time grows, however busy the machine
    is; an app that is stuck uses none."""
    try:
        real = os.path.realpath(app_binary())
    except RuntimeError:
        return 0.0
    stats = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            stats[int(pid)] = (os.path.realpath(f"/proc/{pid}/exe") == real, int(fields[1]),
                               int(fields[11]) + int(fields[12]))
        except (OSError, IndexError, ValueError):
            continue
    apps = {pid for pid, (is_app, _, _) in stats.items() if is_app}
    ticks = sum(t for pid, (_, parent, t) in stats.items() if pid in apps or parent in apps)
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_for(predicate, timeout, what, interval=0.2):
    """Polls `predicate` until it returns something true. Gives up after
    `timeout` seconds without progress: the deadline moves on whenever the
    app has used CPU since the last look (a slow machine still finishes),
    up to twenty times `timeout` in all."""
    start = time.monotonic()
    deadline = start + timeout
    cpu = app_cpu_seconds()
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(interval)
        now_cpu = app_cpu_seconds()
        if now_cpu - cpu >= 0.05:
            cpu = now_cpu
            deadline = min(time.monotonic() + timeout, start + 20 * timeout)
    raise AssertionError(f"no progress for {timeout}s while waiting for {what} (last error: {last})")


class Screen:
    """A private Xvfb display."""

    def __init__(self):
        self.display = free_display()
        self.proc = subprocess.Popen(
            ["Xvfb", self.display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.env = dict(os.environ, DISPLAY=self.display)
        self.env.pop("WAYLAND_DISPLAY", None)
        wait_for(lambda: subprocess.run(["xdpyinfo"], env=self.env, capture_output=True).returncode == 0, 20, "Xvfb")

    def screenshot(self, name):
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / name
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, check=True)
        return path

    def screenshot_drawn(self, name, min_colors=50, timeout=15):
        """A screenshot taken once the window has painted (the DOM can be
        ready a moment before the pixels are)."""
        return wait_for(lambda: (p := self.screenshot(name)) and self.colors(p) >= min_colors and p,
                        timeout, f"{name} to show a drawn window")

    def colors(self, path):
        """Distinct colours in a screenshot: a blank or failed window has very few."""
        out = subprocess.run(["identify", "-format", "%k", str(path)], capture_output=True, text=True, check=True)
        return int(out.stdout.strip())

    def windows(self, name, visible=False):
        only = ["--onlyvisible"] if visible else []
        r = subprocess.run(["xdotool", "search", *only, "--name", name], env=self.env, capture_output=True, text=True)
        return r.stdout.split()

    def find_window(self, name, timeout=60, visible=False):
        return wait_for(lambda: self.windows(name, visible), timeout, f"a window named {name!r}")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class DriverCrashed(RuntimeError):
    """The WebDriver connection dropped: WebKitWebDriver went away behind
    tauri-driver ("connection refused", "connection closed before message
    completed", "remote end closed connection without response"). Seen on
    these machines at different commands, with or without
    OMP_WAIT_POLICY=PASSIVE: in about one test run of six at first, and in
    6 of 14 test runs on one day (once three times in a row for one test);
    the app itself stays up when driven by hand with xdotool. A test it hits
    is run again (see retry_if_driver_crashed)."""


def retry_if_driver_crashed(test, attempts=5):
    """Runs a test again when, and only when, the WebDriver bridge dropped
    under it (at most `attempts` runs in all). Assertion failures are never
    retried. Measured here: the bridge drops in one test run of six to one
    of two, so three runs were once not enough."""
    @functools.wraps(test)
    def run(self, *args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return test(self, *args, **kwargs)
            except DriverCrashed as e:
                if attempt == attempts:
                    raise
                print(f"\n[e2e] the WebDriver bridge dropped; running {test.__name__} once more: {str(e)[:200]}",
                      file=sys.stderr)
        return None
    return run


class Driver:
    """tauri-driver in front of WebKitWebDriver, with one W3C session on the app."""

    def __init__(self, screen, env_extra=None):
        driver = shutil.which("tauri-driver") or os.path.expanduser("~/.cargo/bin/tauri-driver")
        if not os.path.exists(driver):
            raise RuntimeError("tauri-driver is not installed (./pith.sh test installs it)")
        self.port = free_port()
        self.native_port = free_port()
        env = dict(screen.env, **(env_extra or {}))
        self.log = tempfile.TemporaryFile()
        self.screen = screen
        # Its own process group: closing takes WebKitWebDriver and the app
        # down with it, so sessions never overlap.
        self.proc = subprocess.Popen(
            [driver, "--port", str(self.port), "--native-port", str(self.native_port)],
            env=env, stdout=self.log, stderr=self.log, start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        wait_for(self._ready, 30, "tauri-driver")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app_binary()},
        }}}
        # tauri-driver answers before WebKitWebDriver listens behind it: the
        # first session requests can be refused, so retry for a while.
        try:
            self.session = wait_for(lambda: self.call("POST", "/session", caps)["sessionId"], 60,
                                    "a WebDriver session", 1.0)
        except BaseException:
            self.session = None
            self.close()
            raise

    def _ready(self):
        try:
            with urllib.request.urlopen(self.base + "/status", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise AssertionError(f"WebDriver {method} {path}: {e.code} {e.read()[:500]!r}\n{self.log_tail()}") from None
        except (OSError, http.client.HTTPException) as e:
            # The connection itself dropped: the bridge went away (the app,
            # alive or not, answers through WebDriver with an error instead).
            raise DriverCrashed(f"WebDriver {method} {path}: {e!r}\n{self.log_tail()}") from None

    def output(self):
        """Everything tauri-driver, WebKitWebDriver and the app printed."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def log_tail(self, n=4000):
        """The end of what tauri-driver, WebKitWebDriver and the app printed."""
        self.log.seek(0)
        return "--- driver and app output ---\n" + self.log.read().decode(errors="replace")[-n:]

    def s(self, path):
        return f"/session/{self.session}{path}"

    def find(self, css):
        els = self.call("POST", self.s("/elements"), {"using": "css selector", "value": css})
        return [next(iter(e.values())) for e in els]

    def text(self, css):
        """Text of the first element matching `css`, or None; read in one
        script call so a re-render between find and read cannot interfere."""
        script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;"
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": [css]})

    def texts(self, css):
        """innerText of every element matching `css`."""
        script = "return Array.from(document.querySelectorAll(arguments[0]), e => e.innerText);"
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": [css]})

    def type(self, css, text):
        """Types into the first element matching `css` with real key events
        (\ue007 is the Enter key)."""
        el = self.find(css)[0]
        self.call("POST", self.s(f"/element/{el}/value"), {"text": text})

    def click(self, css):
        el = self.find(css)[0]
        self.call("POST", self.s(f"/element/{el}/click"), {})

    def title(self):
        return self.call("GET", self.s("/title"))

    def script(self, source, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": source, "args": list(args)})

    def switch_to(self, title, timeout=30):
        """Makes the window whose title is `title` the one driven (the
        rephrase popup is a second window of the same app)."""
        def find():
            for handle in self.call("GET", self.s("/window/handles")):
                self.call("POST", self.s("/window"), {"handle": handle})
                if self.title() == title:
                    return handle
            return None
        return wait_for(find, timeout, f"a window titled {title!r}")

    def close(self):
        if self.session:
            try:
                self.call("DELETE", self.s(""))
            except Exception:  # noqa: BLE001 - closing what may already be gone
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        # Wait until the app's window is gone before anything else starts.
        wait_for(lambda: not self.screen.windows("^Pith$"), 15, "the app to close")
        self.log.close()


SYSTEM_PYTHON = "/usr/bin/python3"


def drag_file(screen, path, to=(500, 400), source_at=(1080, 20), while_over=None):
    """Drags `path` onto the point `to` with a real XDND drag: a GTK window
    offers the file, xdotool presses, moves in small steps, and releases.
    `while_over` runs with the pointer held over the target, before the drop."""
    source = subprocess.Popen(
        [SYSTEM_PYTHON, str(pathlib.Path(__file__).with_name("drag_source.py")), str(path), *map(str, source_at)],
        env=screen.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        def shown():
            if source.poll() is not None:
                raise AssertionError(f"the drag source failed: {source.stderr.read().decode(errors='replace')}")
            return screen.windows("^pith-drag-source$")

        wait_for(shown, 20, "the drag source window")
        time.sleep(0.5)
        x0, y0 = source_at[0] + 70, source_at[1] + 55

        def xdo(*args):
            subprocess.run(["xdotool", *map(str, args)], env=screen.env, check=True)

        xdo("mousemove", x0, y0)
        xdo("mousedown", 1)
        steps = 40
        for i in range(1, steps + 1):
            xdo("mousemove", x0 + (to[0] - x0) * i // steps, y0 + (to[1] - y0) * i // steps)
            time.sleep(0.03)
        for _ in range(5):  # a few moves over the target, as a hand would
            xdo("mousemove_relative", "--", 2, 1)
            time.sleep(0.05)
        if while_over:
            while_over()
        xdo("mouseup", 1)
    finally:
        time.sleep(0.5)
        source.terminate()
        source.wait(timeout=10)
        source.stderr.close()


def write_pdf(path, pages):
    """A small, valid PDF: one text page per item of `pages` (each a list of lines)."""
    objects = []
    kids = []
    font = 3
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(None)  # the page tree, filled in below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for lines in pages:
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, content))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    pathlib.Path(path).write_bytes(bytes(out))


DEFAULT_MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelServer:
    """A loopback stand-in for Hugging Face (set HF_ENDPOINT to `url`): every
    .gguf path answers with `model`, honouring Range requests, `delay`
    seconds between 1 MiB chunks so a download can be watched and cancelled."""

    def __init__(self, model=DEFAULT_MODEL, delay=0.0):
        size = os.path.getsize(model)
        with open(model, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(handler):  # noqa: N805 - the handler is the request
                self.requests.append(("HEAD", handler.path, None))
                handler.answer(body=False)

            def do_GET(handler):  # noqa: N805
                self.requests.append(("GET", handler.path, handler.headers.get("Range")))
                handler.answer(body=True)

            def answer(handler, body):  # noqa: N805
                if not handler.path.endswith(".gguf"):
                    handler.send_error(404)
                    return
                start = 0
                asked = handler.headers.get("Range", "")
                if asked.startswith("bytes="):
                    start = int(asked[6:].split("-")[0] or 0)
                handler.send_response(206 if start else 200)
                # The checksum Hugging Face publishes for the file.
                handler.send_header("X-Linked-Etag", f'"{digest}"')
                if start:
                    handler.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
                handler.send_header("Content-Length", str(size - start))
                handler.end_headers()
                if not body:
                    return
                with open(model, "rb") as f:
                    f.seek(start)
                    while chunk := f.read(1 << 20):
                        try:
                            handler.wfile.write(chunk)
                        except (BrokenPipeError, ConnectionResetError):
                            return
                        time.sleep(delay)

            def log_message(handler, *args):  # noqa: N805
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def clipboard(screen, text=None, mime=None, path=None):
    """Reads the clipboard, or sets it to `text` (or the file at `path` as `mime`)."""
    if text is None and path is None:
        r = subprocess.run(["xclip", "-o", "-selection", "clipboard"], env=screen.env, capture_output=True,
                           text=True, timeout=10)
        return r.stdout
    args = ["xclip", "-selection", "clipboard"] + (["-t", mime] if mime else [])
    if path is not None:
        subprocess.run(args + ["-i", str(path)], env=screen.env, check=True, timeout=10)
    else:
        subprocess.run(args, input=text, text=True, env=screen.env, check=True, timeout=10)
    return None


def press(screen, keys):
    subprocess.run(["xdotool", "key", keys], env=screen.env, check=True)
