"""govfeed's publishing side: render stored articles as RSS/Atom and serve them."""
