"""A GTK3 window with one text field, standing in for the app a user copied
from; every change of the field is written to FILE. Run with the system
Python (python3-gi):

    /usr/bin/python3 paste_target.py FILE
"""
import pathlib
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gtk  # noqa: E402

out = pathlib.Path(sys.argv[1])
window = Gtk.Window(title="pith-paste-target")
window.move(700, 600)
window.set_default_size(400, 60)
entry = Gtk.Entry()
entry.connect("changed", lambda e: out.write_text(e.get_text()))
window.add(entry)
window.connect("destroy", Gtk.main_quit)
window.show_all()
entry.grab_focus()
Gtk.main()
