// OpenBLAS is not linked: ConvLensEngine dlopen()s it after choosing OPENBLAS_CORETYPE
// (the variable is read once, when the library loads). This header only gives the types.
#include <cblas.h>
