// ConvLensDiagram: see the issue that builds it.
