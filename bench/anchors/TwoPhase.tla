------------------------------ MODULE TwoPhase ------------------------------
(***************************************************************************)
(* Two-phase commit over a bag of messages, with participant crashes and   *)
(* message loss: the model of examples/twophase.py, written for TLC so the *)
(* bench (bench/bench_anchors.py) can compare state counts and speed.      *)
(*                                                                         *)
(* N resource managers 1..N and a transaction manager. At most F crashes   *)
(* and L lost messages. mp[i]: a Prepared(i) message is in flight; md[i]:  *)
(* "none", or a Commit(i) / Abort(i) message in flight; tmp[i]: the TM has *)
(* received Prepared(i). The bench writes a .cfg setting N, F and L.       *)
(***************************************************************************)
EXTENDS Naturals

CONSTANTS N, F, L

RM == 1..N

VARIABLES tm, nfail, nlost, rm, tmp, mp, md

vars == <<tm, nfail, nlost, rm, tmp, mp, md>>

TypeOK ==
  /\ tm \in {"init", "committed", "aborted"}
  /\ nfail \in 0..F
  /\ nlost \in 0..L
  /\ rm \in [RM -> {"working", "prepared", "committed", "aborted", "crashed"}]
  /\ tmp \in [RM -> BOOLEAN]
  /\ mp \in [RM -> BOOLEAN]
  /\ md \in [RM -> {"none", "commit", "abort"}]

Init ==
  /\ tm = "init"
  /\ nfail = 0
  /\ nlost = 0
  /\ rm = [i \in RM |-> "working"]
  /\ tmp = [i \in RM |-> FALSE]
  /\ mp = [i \in RM |-> FALSE]
  /\ md = [i \in RM |-> "none"]

RMPrepare(i) ==
  /\ rm[i] = "working"
  /\ rm' = [rm EXCEPT ![i] = "prepared"]
  /\ mp' = [mp EXCEPT ![i] = TRUE]
  /\ UNCHANGED <<tm, nfail, nlost, tmp, md>>

RMChooseAbort(i) ==
  /\ rm[i] = "working"
  /\ rm' = [rm EXCEPT ![i] = "aborted"]
  /\ UNCHANGED <<tm, nfail, nlost, tmp, mp, md>>

TMRcvPrepared(i) ==
  /\ tm = "init"
  /\ mp[i]
  /\ tmp' = [tmp EXCEPT ![i] = TRUE]
  /\ mp' = [mp EXCEPT ![i] = FALSE]
  /\ UNCHANGED <<tm, nfail, nlost, rm, md>>

TMCommit ==
  /\ tm = "init"
  /\ \A i \in RM : tmp[i]
  /\ tm' = "committed"
  /\ md' = [i \in RM |-> "commit"]
  /\ UNCHANGED <<nfail, nlost, rm, tmp, mp>>

TMAbort ==
  /\ tm = "init"
  /\ tm' = "aborted"
  /\ md' = [i \in RM |-> "abort"]
  /\ UNCHANGED <<nfail, nlost, rm, tmp, mp>>

RMRcvCommit(i) ==
  /\ md[i] = "commit"
  /\ rm[i] # "crashed"
  /\ rm' = [rm EXCEPT ![i] = "committed"]
  /\ md' = [md EXCEPT ![i] = "none"]
  /\ UNCHANGED <<tm, nfail, nlost, tmp, mp>>

RMRcvAbort(i) ==
  /\ md[i] = "abort"
  /\ rm[i] # "crashed"
  /\ rm' = [rm EXCEPT ![i] = "aborted"]
  /\ md' = [md EXCEPT ![i] = "none"]
  /\ UNCHANGED <<tm, nfail, nlost, tmp, mp>>

RMCrash(i) ==
  /\ rm[i] \in {"working", "prepared"}
  /\ nfail < F
  /\ rm' = [rm EXCEPT ![i] = "crashed"]
  /\ nfail' = nfail + 1
  /\ UNCHANGED <<tm, nlost, tmp, mp, md>>

LosePrepared(i) ==
  /\ mp[i]
  /\ nlost < L
  /\ mp' = [mp EXCEPT ![i] = FALSE]
  /\ nlost' = nlost + 1
  /\ UNCHANGED <<tm, nfail, rm, tmp, md>>

LoseDecision(i) ==
  /\ md[i] # "none"
  /\ nlost < L
  /\ md' = [md EXCEPT ![i] = "none"]
  /\ nlost' = nlost + 1
  /\ UNCHANGED <<tm, nfail, rm, tmp, mp>>

Next ==
  \/ TMCommit
  \/ TMAbort
  \/ \E i \in RM :
       \/ RMPrepare(i)
       \/ RMChooseAbort(i)
       \/ TMRcvPrepared(i)
       \/ RMRcvCommit(i)
       \/ RMRcvAbort(i)
       \/ RMCrash(i)
       \/ LosePrepared(i)
       \/ LoseDecision(i)

Spec == Init /\ [][Next]_vars

(* No participant has committed while another has aborted. *)
TCConsistent ==
  \A i, j \in RM : ~ (rm[i] = "committed" /\ rm[j] = "aborted")

=============================================================================
