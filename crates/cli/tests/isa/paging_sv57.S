/* paging_sv57.S: Sv57 translation (5 levels); the body is paging.inc. */
#define SATP_MODE 10
#define LEVELS 5
#include "paging.inc"
