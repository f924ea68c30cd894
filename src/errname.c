#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errname.h"
#include "scan.h"

static const struct { char name[14]; uint16_t value; } errnos[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "EINTR", EINTR }, { "EIO", EIO },
	{ "ENXIO", ENXIO }, { "E2BIG", E2BIG }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM },
	{ "EACCES", EACCES }, { "EFAULT", EFAULT }, { "EBUSY", EBUSY }, { "EEXIST", EEXIST },
	{ "ENODEV", ENODEV }, { "ENOTDIR", ENOTDIR }, { "EISDIR", EISDIR },
	{ "EINVAL", EINVAL }, { "EFBIG", EFBIG }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS },
	{ "EMLINK", EMLINK }, { "ERANGE", ERANGE }, { "ENAMETOOLONG", ENAMETOOLONG },
	{ "ENOSYS", ENOSYS }, { "ENOTEMPTY", ENOTEMPTY }, { "ELOOP", ELOOP },
	{ "ENODATA", ENODATA }, { "EOVERFLOW", EOVERFLOW }, { "ESTALE", ESTALE },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "ENOTTY", ENOTTY }, { "EPROTO", EPROTO },
	{ "ENOTCONN", ENOTCONN }, { "ETIMEDOUT", ETIMEDOUT }, { "EXDEV", EXDEV },
};

int errname_parse(const char *s, uint32_t *out)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(s, errnos[i].name)) {
			*out = errnos[i].value;
			return 0;
		}
	char *end;
	unsigned long v = scan_ull(s, &end, 10);
	if (!*s || *s == '-' || *end || v == 0 || v > ERRNAME_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

const char *errname(int e)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].value == e)
			return errnos[i].name;
	return NULL;
}
