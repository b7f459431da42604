"""The installed package, as a user meets it: `pith` on the PATH answers,
and the installed app opens its window under Xvfb. Run by `./pith.sh test`
after it installs the .deb (`python3 -m tests.e2e.installed`)."""

import shutil
import subprocess
import sys
import tempfile

from tests.e2e.desktop import Screen


def main():
    pith = shutil.which("pith")
    app = shutil.which("pith-desktop")
    assert pith == "/usr/bin/pith" and app == "/usr/bin/pith-desktop", (pith, app)
    version = subprocess.run([pith, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("pith "), version
    data = tempfile.mkdtemp(prefix="pith-installed-")
    env = {"PITH_DATA_DIR": data, "PATH": "/usr/bin:/bin"}
    hardware = subprocess.run([pith, "hardware"], capture_output=True, text=True, env=env, timeout=120)
    assert hardware.returncode == 0 and "memory" in hardware.stdout.lower(), hardware
    screen = Screen()
    proc = subprocess.Popen([app], env=dict(screen.env, **env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        screen.find_window("^Pith$", timeout=90, visible=True)
        screen.screenshot_drawn("installed-app.png")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        screen.close()
    print(f"installed: {version.strip()}; the window of {app} showed")


if __name__ == "__main__":
    sys.exit(main())
