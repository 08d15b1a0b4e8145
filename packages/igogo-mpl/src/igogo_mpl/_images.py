"""A figure as a cell shows it: the mime bundle that live and headless runs both send.

A job's figure must look in its cell exactly as it would had regular code
displayed it, so the bundle comes from IPython's own display formatter when
there is one: the inline backend's ``figure_formats`` (PNG, SVG, retina...) and
its metadata then apply unchanged.  Without a formatter for figures (the Agg
backend chosen in a kernel) a PNG is made here.  A figure with a canvas of its
own (a window, an ipympl widget) shows itself and gets no image.  A headless
run has one display per job, so several figures are put side by side in one
HTML display.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Bundle", "bundle", "combine", "shows_itself"]

Bundle = tuple[dict[str, Any], dict[str, Any]]
"""A display's data (mime type to content) and its metadata."""


def shows_itself(fig: Any) -> bool:
    """Whether ``fig``'s canvas is interactive (a window, a widget): it needs no image."""
    cls = type(fig.canvas)
    if getattr(cls, "required_interactive_framework", None):
        return True
    # Jupyter's interactive canvases declare no framework: know them by their module.
    module = cls.__module__
    return "nbagg" in module or "webagg" in module or "ipympl" in module


def bundle(fig: Any) -> Bundle:
    """The mime bundle and metadata of ``fig``, as IPython would display it.

    In a kernel with the inline backend that is IPython's figure formatter (PNG by
    default, whatever ``InlineBackend.figure_formats`` says otherwise); without a
    figure formatter (the Agg backend chosen in a kernel) a PNG made here.
    """
    ip = None
    if "IPython" in sys.modules:  # never import IPython for a script's figures
        from IPython import get_ipython

        ip = get_ipython()
    if ip is not None:
        data, md = ip.display_formatter.format(fig)
        # No image means no formatter for figures (Agg in a kernel): make a PNG below,
        # except for an empty figure, which is text however it is shown.
        if any(k.startswith(("image/", "application/pdf")) for k in data) or not fig.axes:
            md = dict(md)
            inline = sys.modules.get("matplotlib_inline.backend_inline")
            fetch = getattr(inline, "_fetch_figure_metadata", None)
            extra = fetch(fig) if fetch is not None else None
            if extra:
                md.update(extra)
            return dict(data), md
    import base64
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    return {"image/png": png, "text/plain": repr(fig)}, {}


def combine(bundles: list[Bundle]) -> Bundle:
    """One HTML display holding several figures (headless runs have one display per job)."""
    parts = []
    for data, _ in bundles:
        if "image/png" in data:
            parts.append(f'<img src="data:image/png;base64,{data["image/png"]}"/>')
        elif "image/jpeg" in data:
            parts.append(f'<img src="data:image/jpeg;base64,{data["image/jpeg"]}"/>')
        elif "image/svg+xml" in data:
            parts.append(str(data["image/svg+xml"]))
        else:
            import html

            parts.append(f"<pre>{html.escape(str(data.get('text/plain', '')))}</pre>")
    text = "\n".join(str(d.get("text/plain", "")) for d, _ in bundles)
    return {"text/html": "<div>" + "\n".join(parts) + "</div>", "text/plain": text}, {}
