// Debian's libopenblas-dev installs cblas.h under the multiarch include directory.
#include <cblas.h>
// Thread control lives in OpenBLAS's own header; declared here so Swift can set it.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// The kernel family OpenBLAS picked for this CPU at load time (e.g. "Haswell", "Prescott").
char* openblas_get_corename(void);
