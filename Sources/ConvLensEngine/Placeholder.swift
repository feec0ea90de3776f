// ConvLensEngine: see the issue that builds it.
