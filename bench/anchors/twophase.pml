/*
 * Two-phase commit over a bag of messages, with participant crashes and message loss: the
 * model of examples/twophase.py, written for Spin so the bench (bench/bench_anchors.py) can
 * compare state counts and speed.
 *
 * One process; each action of the model is one d_step (one transition, no intermediate
 * states), so Spin's stored states are the model's states. The number of participants is the
 * macro N, set on the command line (spin -DN=5 -a twophase.pml); F crashes and L lost messages
 * at most. Participants are unrolled with the C preprocessor, up to 8.
 *
 * State: tm; nfail, nlost; per participant i: rm[i], tmp[i] (the TM has received Prepared(i)),
 * mp[i] (a Prepared(i) message is in flight), md[i] (no message, or Commit(i) or Abort(i) in
 * flight). Invariant: no participant has committed while another has aborted (asserted at the
 * end of every step, so a violating state is never stored silently).
 */

#ifndef N
#define N 3
#endif
#ifndef F
#define F 1
#endif
#ifndef L
#define L 1
#endif
#if N < 1 || N > 8
#error "N must be between 1 and 8"
#endif

/* tm */
#define T_INIT      0
#define T_COMMITTED 1
#define T_ABORTED   2
/* rm */
#define WORKING   0
#define PREPARED  1
#define COMMITTED 2
#define ABORTED   3
#define CRASHED   4
/* md */
#define NONE   0
#define COMMIT 1
#define ABORT  2

byte tm = T_INIT;
byte nfail = 0;
byte nlost = 0;
byte rm[N];   /* all WORKING */
bool tmp[N];
bool mp[N];
byte md[N];   /* all NONE */

/* scratch for loops inside a d_step: hidden, so not part of the state */
hidden byte j;
hidden byte anyc;
hidden byte anya;

#define CHECK \
  j = 0; anyc = 0; anya = 0; \
  do \
  :: j < N -> anyc = anyc || rm[j] == COMMITTED; anya = anya || rm[j] == ABORTED; j++ \
  :: else -> break \
  od; \
  assert(!(anyc && anya))

#define SET_MD(v) \
  j = 0; \
  do \
  :: j < N -> md[j] = v; j++ \
  :: else -> break \
  od

/* all of tmp[0..N) */
#define TMP0 tmp[0]
#if N > 1
#define TMP1 && tmp[1]
#else
#define TMP1
#endif
#if N > 2
#define TMP2 && tmp[2]
#else
#define TMP2
#endif
#if N > 3
#define TMP3 && tmp[3]
#else
#define TMP3
#endif
#if N > 4
#define TMP4 && tmp[4]
#else
#define TMP4
#endif
#if N > 5
#define TMP5 && tmp[5]
#else
#define TMP5
#endif
#if N > 6
#define TMP6 && tmp[6]
#else
#define TMP6
#endif
#if N > 7
#define TMP7 && tmp[7]
#else
#define TMP7
#endif
#define ALL_TMP (TMP0 TMP1 TMP2 TMP3 TMP4 TMP5 TMP6 TMP7)

/* the actions of participant i, one option each */
#define RM_ACTIONS(i) \
  :: d_step { rm[i] == WORKING -> rm[i] = PREPARED; mp[i] = true; CHECK } \
  :: d_step { rm[i] == WORKING -> rm[i] = ABORTED; CHECK } \
  :: d_step { tm == T_INIT && mp[i] -> tmp[i] = true; mp[i] = false; CHECK } \
  :: d_step { md[i] == COMMIT && rm[i] != CRASHED -> rm[i] = COMMITTED; md[i] = NONE; CHECK } \
  :: d_step { md[i] == ABORT && rm[i] != CRASHED -> rm[i] = ABORTED; md[i] = NONE; CHECK } \
  :: d_step { (rm[i] == WORKING || rm[i] == PREPARED) && nfail < F -> \
                rm[i] = CRASHED; nfail++; CHECK } \
  :: d_step { mp[i] && nlost < L -> mp[i] = false; nlost++; CHECK } \
  :: d_step { md[i] != NONE && nlost < L -> md[i] = NONE; nlost++; CHECK }

active proctype TwoPhase()
{
end:  /* a state where every participant has finished is a valid end, not a deadlock */
  do
  :: d_step { tm == T_INIT && ALL_TMP -> tm = T_COMMITTED; SET_MD(COMMIT); CHECK }
  :: d_step { tm == T_INIT -> tm = T_ABORTED; SET_MD(ABORT); CHECK }
  RM_ACTIONS(0)
#if N > 1
  RM_ACTIONS(1)
#endif
#if N > 2
  RM_ACTIONS(2)
#endif
#if N > 3
  RM_ACTIONS(3)
#endif
#if N > 4
  RM_ACTIONS(4)
#endif
#if N > 5
  RM_ACTIONS(5)
#endif
#if N > 6
  RM_ACTIONS(6)
#endif
#if N > 7
  RM_ACTIONS(7)
#endif
  od
}
