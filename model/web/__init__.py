"""The web page's pieces that are not layout: texts, handlers, CSS and the step panel's browser script."""
