"""Pictures: computation-graph drawings (graphviz) and training plots (matplotlib, optional)."""

from . import plots
from .graph import GraphDrawing, GraphvizNotFoundError, draw_graph, retain_grads

__all__ = ["draw_graph", "retain_grads", "GraphDrawing", "GraphvizNotFoundError", "plots"]
