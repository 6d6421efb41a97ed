/* Shared between bpf/exec_count.bpf.c and its loader: plain C, fixed widths. */
#ifndef BULKHEAD_SHARED_EXEC_COUNT_H
#define BULKHEAD_SHARED_EXEC_COUNT_H

#define BULKHEAD_MAX_TRACKED_CGROUPS 4096

#endif
