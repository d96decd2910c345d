/* paging_sv48.S: Sv48 translation (4 levels); the body is paging.inc. */
#define SATP_MODE 9
#define LEVELS 4
#include "paging.inc"
