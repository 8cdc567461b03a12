/* cpubench's fixed workload and its known answer (recompute with host/host_check.c). */
#ifndef CPUBENCH_CONFIG_H
#define CPUBENCH_CONFIG_H

#define CPUBENCH_ITERATIONS 6000u /* about 214 million instructions (QEMU -icount) */
#define CPUBENCH_EXPECTED_TOTAL 0xdd88u

#endif
