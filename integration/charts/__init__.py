"""Charts as SVG made on the server (no JavaScript, no inline styles: the classes are styled by CSS)."""
