// OpenBLAS is not linked: ConvLensEngine dlopen()s it after choosing OPENBLAS_CORETYPE
// (the variable is read once, when the library loads). This header only gives the types the
// function pointers need, declared here (as in OpenBLAS 0.3's cblas.h, LP64 build: blasint = int)
// so that building needs no OpenBLAS headers and nothing pulls the library in at link time.
#ifndef CONVLENS_COPENBLAS_SHIM_H
#define CONVLENS_COPENBLAS_SHIM_H
typedef int blasint;
typedef enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 } CBLAS_ORDER;
typedef enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113, CblasConjNoTrans = 114 } CBLAS_TRANSPOSE;
#endif
