/*
 * The progress bar of `amiko cp` and `amiko sftp` get/put: one line on
 * stdout, redrawn in place, with the name, percentage, bytes, a smoothed
 * rate and the time left (or, at the end, the time taken):
 *
 *   dir/file.bin                 45%   12.0MB   3.4MB/s   00:12 ETA
 *
 * Drawn only when enabled (the caller's rule: stdout is a terminal and
 * -q was not given) and, as OpenSSH's progressmeter.c, only while the
 * process is in the terminal's foreground process group: a transfer
 * sent to the background (^Z, bg) goes on without writing over the
 * shell's line.
 * The formatting functions are pure (no clock, no I/O) so they can be
 * tested; the rate comes from byte counts and a monotonic clock
 * (CLOCK_MONOTONIC) passed in by the caller.
 */
#ifndef AMIKO_XFER_PROGRESS_H
#define AMIKO_XFER_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define XFER_NS_PER_S 1000000000ull
#define XFER_SAMPLE_NS (XFER_NS_PER_S / 4)     /* rate sampled every 250 ms */
#define XFER_REDRAW_NS (XFER_NS_PER_S / 5)     /* at most 5 redraws a second */
#define XFER_RATE_WEIGHT 0.3                   /* weight of a new sample */

struct xfer_progress {
    int enabled;
    int fd;                 /* where to draw (1) */
    unsigned cols;          /* terminal width */
    uint64_t start_ns;      /* when the transfer began */
    uint64_t sample_ns;     /* time of the last rate sample */
    uint64_t sample_bytes;  /* bytes at the last rate sample */
    uint64_t drawn_ns;      /* time of the last redraw */
    double rate;            /* smoothed bytes per second; < 0 before the first sample */
    int drawn;              /* a line is on the screen */
    uint64_t done, total;
    char name[256];
};

/* Starts a transfer of @p total bytes at @p now_ns; draws to @p fd when @p enabled. */
void xfer_progress_init(struct xfer_progress *p, int enabled, int fd, uint64_t total,
    uint64_t now_ns);
/* @p done bytes of the transfer at @p now_ns, working on @p name; redraws
 * at most every XFER_REDRAW_NS (always when everything is done). */
void xfer_progress_update(struct xfer_progress *p, const char *name, uint64_t done,
    uint64_t now_ns);
/* Draws the final line (time taken instead of ETA) and ends it. */
void xfer_progress_finish(struct xfer_progress *p, uint64_t now_ns);

/* Feeds the rate estimate (exponential smoothing of 250 ms samples). */
void xfer_rate_sample(struct xfer_progress *p, uint64_t done, uint64_t now_ns);

/* "0B", "1023B", "1.0KB", "12.3MB", "123MB", "1.5GB" (powers of 1024, as scp). */
void xfer_format_size(char *buf, size_t cap, uint64_t bytes);
/* "MM:SS" or "H:MM:SS"; "--:--" for a negative (unknown) time. */
void xfer_format_time(char *buf, size_t cap, double seconds);
/* Seconds left at @p rate bytes/s; negative when unknown. */
double xfer_eta(uint64_t done, uint64_t total, double rate);
/*
 * The whole line for a terminal @p cols wide (without '\r' or newline):
 * the name escaped (xfer/vis.h) and cut from the left to fit, the
 * percentage, the size done, the
 * rate ("--" before one is known) and the ETA, or with @p finished the
 * time taken @p elapsed_s.
 */
void xfer_format_line(char *buf, size_t cap, unsigned cols, const char *name, uint64_t done,
    uint64_t total, double rate, int finished, double elapsed_s);

/* The monotonic clock in nanoseconds. */
uint64_t xfer_now_ns(void);

#endif
