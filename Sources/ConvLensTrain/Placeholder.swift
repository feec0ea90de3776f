// ConvLensTrain: see the issue that builds it.
