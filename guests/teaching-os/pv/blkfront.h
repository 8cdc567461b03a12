/*
 * blkfront: the teaching OS's frontend of Xen's split block driver (blkfront.c), and the
 * `disk` command over it (disk.c).
 */
#ifndef TOS_BLKFRONT_H
#define TOS_BLKFRONT_H

#include "pv.h"
#include "blkif.h"

#define MAX_VBDS 4
/* Requests in flight at most, each with its own 11 granted data pages. */
#define BLK_SLOTS 8
#define BLK_SLOT_SECTORS (BLKIF_MAX_SEGMENTS_PER_REQUEST * 8u)

struct vbd {
  int used;
  int state;                        /* our XenbusState */
  uint32_t devid;
  char vdev[8];                     /* xvda... from the device id */
  char fe[40];                      /* device/vbd/<devid> (relative to our home) */
  char be[96];                      /* the backend's area */
  domid_t be_id;
  uint64_t sectors;
  uint32_t sector_size, info;
  int flush;                        /* feature-flush-cache */
  struct blkif_sring *ring;
  grant_ref_t ring_ref;
  evtchn_port_t port;
  RING_IDX req_prod_pvt, rsp_cons;
  uint32_t pages[BLK_SLOTS][BLKIF_MAX_SEGMENTS_PER_REQUEST];
  grant_ref_t refs[BLK_SLOTS][BLKIF_MAX_SEGMENTS_PER_REQUEST];
  uint32_t busy;                    /* slots in flight (bit mask) */
  uint32_t requests, notifies, events, errors;
};

extern struct vbd vbds[MAX_VBDS];

void blkfront_init(void);
int blkfront_has_work(void);
void blkfront_work(void);           /* attach new disks, let go of detached ones */
int blkfront_reconnect(struct vbd *v);  /* Closing, Closed, Initialising, connected again */
void blkfront_resume(void);         /* every connected disk reconnected (after a suspend) */

/* One job of blk_run: what request `i` is (prep fills op, sector, nsect and may fill the
 * slot's pages), and what to do with its pages when it is answered (done; may be 0). */
struct blk_job {
  void (*prep)(struct vbd *v, uint32_t i, int slot, uint8_t *op, uint64_t *sector, uint32_t *nsect, void *arg);
  void (*done)(struct vbd *v, uint32_t i, int slot, void *arg);
  void *arg;
};
/* Run `count` requests with at most `depth` in flight. Returns 0, or the number of
 * requests answered with an error (their statuses are printed), or -1 on a timeout. */
int32_t blk_run(struct vbd *v, uint32_t count, uint32_t depth, const struct blk_job *job);
/* One request on slot 0; returns its status, or -1 on a timeout. */
int32_t blk_one(struct vbd *v, uint8_t op, uint64_t sector, uint32_t nsect);
const char *xenbus_state_name(int s);

#endif
