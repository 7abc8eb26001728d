"""Agent Builder's node kinds, one module per family; ``chatkitd.workflows.graph.kinds`` lists them."""
