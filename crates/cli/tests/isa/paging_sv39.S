/* paging_sv39.S: Sv39 translation (3 levels); the body is paging.inc. */
#define SATP_MODE 8
#define LEVELS 3
#include "paging.inc"
