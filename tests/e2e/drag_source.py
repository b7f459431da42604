"""A small GTK3 window that offers one file as a drag source (text/uri-list),
for real XDND drags onto the app. Run with the system Python (python3-gi):

    /usr/bin/python3 drag_source.py FILE X Y
"""
import pathlib
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, Gtk  # noqa: E402

path, x, y = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
uri = pathlib.Path(path).resolve().as_uri()

window = Gtk.Window(title="pith-drag-source")
window.move(x, y)
window.set_default_size(160, 120)
box = Gtk.EventBox()
box.add(Gtk.Label(label="drag me"))
window.add(box)
box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [Gtk.TargetEntry.new("text/uri-list", 0, 0)], Gdk.DragAction.COPY)
box.connect("drag-data-get", lambda _w, _ctx, data, _info, _time: data.set_uris([uri]))
window.connect("destroy", Gtk.main_quit)
window.show_all()
Gtk.main()
