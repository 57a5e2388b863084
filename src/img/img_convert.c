/* SPDX-License-Identifier: Apache-2.0 */
/* vmon-img convert: a reader thread, compression workers, one writer. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/blk_admin.h"
#include "block/block.h"
#include "util/parse.h"

#include "img/img.h"
/* ---- convert ---- */

struct cjob {
	struct blk *b;
	const uint8_t *in;
	size_t len;
	uint8_t *out;
	size_t clen;
	int ret;
};

struct cwork {
	struct cjob *jobs;
	int n;
	int next;       /* the next job to take (atomic): whoever runs takes more */
};

static void *compress_worker(void *p)
{
	struct cwork *w = p;
	for (;;) {
		int i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED);
		if (i >= w->n)
			break;
		w->jobs[i].ret = blk_compress(w->jobs[i].b, w->jobs[i].in, w->jobs[i].len,
					      w->jobs[i].out, &w->jobs[i].clen);
	}
	return NULL;
}

/* Writes the whole clusters of buf (guest offset to) compressed, the
 * compression spread over the host's cores; zero clusters are skipped
 * (fresh target) or written as zeroes. */
static int write_compressed_chunk(struct blk *out, const uint8_t *buf, uint64_t n, uint64_t to,
				  uint32_t cs, bool fresh, uint8_t *cbufs)
{
	static int ncpu;
	int nj = 0, r = 0;
	struct cjob *jobs = malloc(sizeof(*jobs) * (size_t)(n / cs + 1));
	if (!jobs)
		return -ENOMEM;

	if (!ncpu) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		ncpu = c < 1 ? 1 : c > 8 ? 8 : (int)c;
	}
	for (uint64_t p = 0; p < n; p += cs) {
		uint64_t u = n - p < cs ? n - p : cs;
		if (img_buf_zero(buf + p, u)) {
			if (!fresh && (r = blk_write_zeroes(out, to + p, u, true)) < 0)
				goto out;
			continue;
		}
		jobs[nj] = (struct cjob){ out, buf + p, (size_t)u, cbufs + (size_t)nj * cs, 0, 0 };
		nj++;
	}
	pthread_t th[8];
	struct cwork w = { jobs, nj, 0 };
	int nt = ncpu < nj ? ncpu : nj;
	bool started[8] = { false };
	for (int t = 1; t < nt; t++)
		started[t] = pthread_create(&th[t], NULL, compress_worker, &w) == 0;
	compress_worker(&w);   /* this thread too; it finishes what nobody took */
	for (int t = 1; t < nt; t++)
		if (started[t])
			pthread_join(th[t], NULL);
	for (int j = 0; j < nj && r >= 0; j++) {
		uint64_t at = to + (uint64_t)(jobs[j].in - buf);
		if ((r = jobs[j].ret) < 0)
			break;
		if (jobs[j].clen)
			r = blk_write_compressed_data(out, at, jobs[j].out, jobs[j].clen);
		else
			r = blk_pwrite(out, jobs[j].in, jobs[j].len, at);
	}
out:
	free(jobs);
	return r;
}

/* The reading half of convert, on its own thread: allocation status and
 * data of the sources, chunk by chunk, into a ring of buffers, so that
 * reading the next chunk overlaps writing this one. */
enum { SLOT_ZERO, SLOT_DATA, SLOT_END, SLOT_ERROR };
#define NSLOT 4

struct slot {
	bool full;
	int kind;
	uint64_t to, n, progress;
	uint8_t *buf, *bbuf;
	char msg[300];
};

struct reader {
	struct blk **src;
	int nsrc;
	uint64_t gran;
	struct blk *bk;
	char **names;
	pthread_t th;
	bool started, stop;
	pthread_mutex_t m;
	pthread_cond_t c;
	struct slot slots[NSLOT];
	int head, tail;
};

static struct slot *reader_slot(struct reader *rd)
{
	struct slot *sl = &rd->slots[rd->tail];
	pthread_mutex_lock(&rd->m);
	while (sl->full && !rd->stop)
		pthread_cond_wait(&rd->c, &rd->m);
	pthread_mutex_unlock(&rd->m);
	return rd->stop ? NULL : sl;
}

static void reader_push(struct reader *rd, struct slot *sl)
{
	pthread_mutex_lock(&rd->m);
	sl->full = true;
	rd->tail = (rd->tail + 1) % NSLOT;
	pthread_cond_broadcast(&rd->c);
	pthread_mutex_unlock(&rd->m);
}

static void *reader_main(void *p)
{
	struct reader *rd = p;
	uint64_t base = 0, gran = rd->gran;
	struct slot *sl;

	for (int s = 0; s < rd->nsrc; s++) {
		uint64_t size = blk_size(rd->src[s]), st_end = 0;
		struct blk_status st = { 0 };
		for (uint64_t off = 0; off < size;) {
			if (!(sl = reader_slot(rd)))
				return NULL;
			/* One status query covers as much as it can; chunks consume it. */
			int r = 0;
			if (off >= st_end) {
				int depth;
				r = blk_block_status_chain(rd->src[s], off, size - off, &st, &depth, NULL);
				st_end = r < 0 ? 0 : off + st.pnum;
			}
			if (r >= 0) {
				st.pnum = st_end - off < IMG_CHUNK ? st_end - off : IMG_CHUNK;
			}
			if (r < 0) {
				snprintf(sl->msg, sizeof(sl->msg), "error while reading block status of '%s': %s",
					 rd->names[s], strerror(-r));
				sl->kind = SLOT_ERROR;
				reader_push(rd, sl);
				return NULL;
			}
			uint64_t n = st.pnum;
			if ((st.flags & BLK_STATUS_ZERO) && !(st.flags & BLK_STATUS_DATA) && !rd->bk) {
				n = st_end - off;   /* no buffer: all of it at once */
				sl->kind = SLOT_ZERO;
				sl->to = base + off;
				sl->n = sl->progress = n;
				reader_push(rd, sl);
				off += n;
				continue;
			}
			/* Data: whole target clusters around it (single source, or aligned). */
			uint64_t lead = (base % gran) ? 0 : off % gran;
			uint64_t endp = off + n;
			if (!(base % gran)) {
				endp = (endp + gran - 1) / gran * gran;
				if (endp > size)
					endp = size;
			}
			sl->kind = SLOT_DATA;
			sl->to = base + off - lead;
			sl->n = endp - (off - lead);
			sl->progress = endp - off;
			if ((r = blk_pread(rd->src[s], sl->buf, sl->n, off - lead)) < 0) {
				snprintf(sl->msg, sizeof(sl->msg), "error while reading at byte %llu: %s",
					 (unsigned long long)(off - lead), img_why(rd->src[s], r));
				sl->kind = SLOT_ERROR;
				reader_push(rd, sl);
				return NULL;
			}
			if (rd->bk) {
				uint64_t to = sl->to, bs = blk_size(rd->bk);
				uint64_t bn = to < bs ? (bs - to < sl->n ? bs - to : sl->n) : 0;
				memset(sl->bbuf, 0, sl->n);
				if (bn && (r = blk_pread(rd->bk, sl->bbuf, bn, to)) < 0) {
					snprintf(sl->msg, sizeof(sl->msg), "error while reading the backing file: %s",
						 strerror(-r));
					sl->kind = SLOT_ERROR;
					reader_push(rd, sl);
					return NULL;
				}
			}
			reader_push(rd, sl);
			off = endp;
		}
		base += size;
	}
	if ((sl = reader_slot(rd))) {
		sl->kind = SLOT_END;
		reader_push(rd, sl);
	}
	return NULL;
}

static int reader_start(struct reader *rd, size_t bufsize)
{
	pthread_mutex_init(&rd->m, NULL);
	pthread_cond_init(&rd->c, NULL);
	for (int i = 0; i < NSLOT; i++) {
		if (posix_memalign((void **)&rd->slots[i].buf, 4096, bufsize) ||
		    (rd->bk && posix_memalign((void **)&rd->slots[i].bbuf, 4096, bufsize)))
			return -ENOMEM;
	}
	if (pthread_create(&rd->th, NULL, reader_main, rd))
		return -EAGAIN;
	rd->started = true;
	return 0;
}

static struct slot *reader_next(struct reader *rd)
{
	struct slot *sl = &rd->slots[rd->head];
	pthread_mutex_lock(&rd->m);
	while (!sl->full)
		pthread_cond_wait(&rd->c, &rd->m);
	pthread_mutex_unlock(&rd->m);
	return sl;
}

static void reader_release(struct reader *rd)
{
	pthread_mutex_lock(&rd->m);
	rd->slots[rd->head].full = false;
	rd->head = (rd->head + 1) % NSLOT;
	pthread_cond_broadcast(&rd->c);
	pthread_mutex_unlock(&rd->m);
}

static void reader_stop(struct reader *rd)
{
	if (rd->started) {
		pthread_mutex_lock(&rd->m);
		rd->stop = true;
		pthread_cond_broadcast(&rd->c);
		pthread_mutex_unlock(&rd->m);
		pthread_join(rd->th, NULL);
		rd->started = false;
	}
	for (int i = 0; i < NSLOT; i++) {
		free(rd->slots[i].buf);
		free(rd->slots[i].bbuf);
		rd->slots[i].buf = rd->slots[i].bbuf = NULL;
	}
}

static void progress(double pct)
{
	printf("    (%.2f/100%%)\r", pct);
	fflush(stdout);
}

int img_cmd_convert(int argc, char **argv)
{
	bool quiet = false;
	const char *fmt = NULL, *ofmt = "raw", *backing = NULL, *bfmt = NULL;
	struct blk_create_opts o = { 0 };
	bool compress = false, prog = false, no_create = false;
	const char *cache = "unsafe";
	char *optstr = NULL;
	uint64_t sparse = 4096;
	int c;

	while ((c = getopt(argc, argv, "+f:O:co:pnqB:F:S:m:WtT:U")) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'O': ofmt = optarg; break;
		case 'c': compress = true; break;
		case 'o': optstr = optarg; break;
		case 'p': prog = true; break;
		case 'n': no_create = true; break;
		case 'q': quiet = true; break;
		case 'B': backing = optarg; break;
		case 'F': bfmt = optarg; break;
		case 'S':
			if (!parse_size(optarg, &sparse)) {
				img_err("Invalid buffer size for sparse output specified");
				return 1;
			}
			break;
		case 't':
			if (strcmp(optarg, "unsafe") && strcmp(optarg, "writeback") && strcmp(optarg, "none") &&
			    strcmp(optarg, "writethrough") && strcmp(optarg, "directsync")) {
				img_err("Invalid cache option: %s", optarg);
				return 1;
			}
			cache = optarg;
			break;
		case 'm': case 'W': case 'T': case 'U': break;
		default: return img_bad_option();
		}
	}
	if (argc - optind < 2) {
		img_err("Expecting image file name");
		return 1;
	}
	if (quiet)
		prog = false;
	int nsrc = argc - optind - 1;
	const char *dst = argv[argc - 1];
	struct blk **src = calloc((size_t)nsrc, sizeof(*src));
	uint64_t total = 0;
	int rc = 1;
	struct blk *out = NULL, *bk = NULL;
	uint8_t *buf = NULL, *bbuf = NULL, *cbufs = NULL;
	for (int i = 0; i < nsrc; i++) {
		if (!(src[i] = img_open(argv[optind + i], fmt, false, false)))
			goto done;
		total += blk_size(src[i]);
	}
	o.format = ofmt;
	if (optstr && img_parse_opts(optstr, &o, &backing, &bfmt) < 0)
		goto done;
	if (compress && strcmp(ofmt, "qcow2")) {
		img_err("Compression not supported for this file format");
		goto done;
	}
	if (!no_create) {
		o.size = total;
		if (strcmp(ofmt, "raw") && strcmp(ofmt, "qcow2")) {
			img_err("Unknown file format '%s'", ofmt);
			goto done;
		}
		if (backing && !bfmt) {
			img_err("%s: Backing file specified without backing format", dst);
			goto done;
		}
		o.backing = backing;
		o.backing_fmt = bfmt;
		char err[1024];
		int r = blk_create(dst, &o, err, sizeof(err));
		if (r < 0) {
			img_err("%s", err);
			goto done;
		}
	}
	{
		char err[1024];
		struct blk_open_opts oo = { .format = no_create ? NULL : ofmt,
					    .cache = !strcmp(cache, "none") || !strcmp(cache, "directsync") ?
						     BLK_CACHE_NONE : BLK_CACHE_WRITEBACK };
		if (!(out = blk_open(dst, &oo, err, sizeof(err)))) {
			img_err("Could not open '%s': %s", dst, err);
			goto done;
		}
		blk_set_cache_unsafe(out, !strcmp(cache, "unsafe"));
	}
	if (no_create && blk_size(out) < total) {
		img_err("Output image is too small");
		goto done;
	}
	uint32_t cs = blk_cluster_size(out);
	uint64_t gran = cs ? cs : (sparse ? sparse : 4096);
	bool fresh = !no_create && !(o.prealloc != BLK_PREALLOC_OFF);
	bk = backing ? blk_backing(out) : NULL;
	if (compress && cs && !(cbufs = malloc((size_t)((IMG_CHUNK + 2 * gran) / cs + 1) * cs))) {
		img_err("out of memory");
		goto done;
	}
	struct reader rd = {
		.src = src, .nsrc = nsrc, .gran = gran, .bk = bk, .names = argv + optind,
	};
	uint64_t done_bytes = 0;
	int r = 0;
	if (reader_start(&rd, IMG_CHUNK + 2 * gran) < 0) {
		img_err("out of memory");
		goto done;
	}
	if (prog)
		progress(0);
	for (;;) {
		struct slot *sl = reader_next(&rd);
		if (sl->kind == SLOT_END) {
			reader_release(&rd);
			break;
		}
		if (sl->kind == SLOT_ERROR) {
			img_err("%s", sl->msg);
			reader_release(&rd);
			reader_stop(&rd);
			goto done;
		}
		uint64_t to = sl->to, n = sl->n;
		uint8_t *buf = sl->buf, *bbuf = sl->bbuf;
		if (sl->kind == SLOT_ZERO) {
			if (!fresh && (r = blk_write_zeroes(out, to, n, true)) < 0)
				goto werr_at;
		} else if (compress && !bk && cs && !(to % cs)) {
			if ((r = write_compressed_chunk(out, buf, n, to, cs, fresh, cbufs)) < 0)
				goto werr_at;
		} else {
			/* Write what is not zero (or not equal to the backing file), unit by unit. */
			for (uint64_t p = 0; p < n;) {
				uint64_t u = gran - (to + p) % gran;
				if (u > n - p)
					u = n - p;
				bool skip = bk ? !memcmp(buf + p, bbuf + p, u) : false;
				if (!bk && img_buf_zero(buf + p, u)) {
					if (!fresh && (r = blk_write_zeroes(out, to + p, u, true)) < 0) {
						to += p;
						goto werr_at;
					}
					skip = true;
				}
				if (skip) {
					p += u;
					continue;
				}
				/* A run of units to write. */
				uint64_t run = u;
				if (!compress) {
					while (p + run < n) {
						uint64_t u2 = gran < n - p - run ? gran : n - p - run;
						bool z = bk ? !memcmp(buf + p + run, bbuf + p + run, u2) : img_buf_zero(buf + p + run, u2);
						if (z)
							break;
						run += u2;
					}
					r = blk_pwrite(out, buf + p, run, to + p);
				} else if (u == cs || to + p + u == blk_size(out)) {
					r = blk_write_compressed(out, buf + p, u, to + p);
				} else {
					r = blk_pwrite(out, buf + p, u, to + p);
				}
				if (r < 0) {
					to += p;
					goto werr_at;
				}
				p += run;
			}
		}
		done_bytes += sl->progress;
		reader_release(&rd);
		if (prog)
			progress(done_bytes * 100.0 / (total ? total : 1));
		continue;
werr_at:
		img_err("error while writing at byte %llu: %s", (unsigned long long)to, img_why(out, r));
		reader_release(&rd);
		reader_stop(&rd);
		goto done;
	}
	reader_stop(&rd);
	r = blk_flush(out);
	if (r < 0) {
		img_err("error while flushing '%s': %s", dst, img_why(out, r));
		goto done;
	}
	if (prog) {
		progress(100);
		printf("\n");
	}
	rc = 0;
done:
	if (out)
		blk_close(out);
	for (int i = 0; i < nsrc; i++)
		if (src[i])
			blk_close(src[i]);
	free(src);
	free(buf);
	free(bbuf);
	free(cbufs);
	return rc;
}

