/*  bulwark — where compiled tables go: a memory buffer, or a file written
 *  beside its final name, synced and renamed into place, so that a crash
 *  or an error leaves the old table or the new one and never a part.
 */
#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulwark/err.h"
#include "grow.h"

/* ---- Memory. ---- */

static int mem_write(void *arg, uint64_t off, const void *data, size_t len)
{
	struct bw_out_mem *m = arg;
	size_t old = m->cap;

	if (off + len > SIZE_MAX / 2)
		return BW_ENOMEM;
	if (bw_grow((void **)&m->data, &m->cap, (size_t)off + len, 1, 1 << 16) != 0)
		return BW_ENOMEM;
	if (m->cap > old)
		memset(m->data + old, 0, m->cap - old);
	if (len > 0)
		memcpy(m->data + off, data, len);
	if (off + len > m->len)
		m->len = (size_t)off + len;
	return 0;
}

static int mem_read(void *arg, uint64_t off, void *data, size_t len)
{
	struct bw_out_mem *m = arg;

	if (off > m->len || len > m->len - off)
		return BW_EINVAL;
	memcpy(data, m->data + off, len);
	return 0;
}

void bw_out_mem_init(struct bw_out_mem *m, struct bw_pack_out *o)
{
	memset(m, 0, sizeof(*m));
	*o = (struct bw_pack_out){ .arg = m, .write = mem_write, .read = mem_read };
}

/* ---- A file, renamed into place. ---- */

static int file_write(void *arg, uint64_t off, const void *data, size_t len)
{
	struct bw_out_file *f = arg;
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = pwrite(f->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int file_read(void *arg, uint64_t off, void *data, size_t len)
{
	struct bw_out_file *f = arg;
	uint8_t *p = data;

	while (len > 0) {
		ssize_t n = pread(f->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return BW_EIO;  /* Shorter than what was written. */
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int bw_out_file_open(struct bw_out_file *f, const char *path,
                     struct bw_pack_out *o)
{
	size_t plen = strlen(path);

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->path = path;
	f->tmp = malloc(plen + 32);
	if (f->tmp == NULL)
		return BW_ENOMEM;
	snprintf(f->tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
	f->fd = open(f->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0) {
		int ret = -errno;
		free(f->tmp);
		f->tmp = NULL;
		return ret;
	}
	*o = (struct bw_pack_out){ .arg = f, .write = file_write, .read = file_read };
	return 0;
}

/* Syncs the directory that holds \a path, so that the rename lasts. */
static int sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? strdup(".") :
	            strndup(path, slash == path ? 1 : (size_t)(slash - path));
	int ret = 0;

	if (dir == NULL)
		return BW_ENOMEM;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

int bw_out_file_close(struct bw_out_file *f, bool commit)
{
	int ret = 0;

	if (f->fd >= 0) {
		if (commit && fsync(f->fd) != 0)
			ret = -errno;
		if (close(f->fd) != 0 && ret == 0)
			ret = -errno;
		f->fd = -1;
	}
	if (f->tmp == NULL)
		return commit ? BW_EINVAL : 0;
	if (commit && ret == 0 && rename(f->tmp, f->path) != 0)
		ret = -errno;
	if (commit && ret == 0)
		ret = sync_dir_of(f->path);
	if (!commit || ret != 0)
		unlink(f->tmp);
	free(f->tmp);
	f->tmp = NULL;
	return ret;
}
