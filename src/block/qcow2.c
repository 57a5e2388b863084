/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "block/block_int.h"

static int qcow2_probe(const uint8_t *buf, size_t len)
{
	return len >= 4 && !memcmp(buf, "QFI\xfb", 4) ? 100 : 0;
}

static int qcow2_open(struct blk *b, char *err, size_t errlen)
{
	errf(err, errlen, "%s: qcow2 is not supported yet", b->filename);
	return -ENOTSUP;
}

const struct blk_driver blk_qcow2_driver = {
	.name = "qcow2",
	.probe = qcow2_probe,
	.open = qcow2_open,
};
