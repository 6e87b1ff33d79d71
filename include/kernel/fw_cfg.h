/* QEMU fw_cfg (docs/specs/fw_cfg.txt in QEMU): extra command-line words for tests. */
#ifndef KERNEL_FW_CFG_H
#define KERNEL_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>

#define FW_CFG_CMDLINE_FILE "opt/kestrel/cmdline"

/* Reads file `name` into buf (terminated); returns its length or a negative errno. */
int fw_cfg_read_file(const char *name, char *buf, size_t len);

#endif
