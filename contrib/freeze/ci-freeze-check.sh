#!/bin/sh
# ci-freeze-check.sh KEY BROKER PROJECT BRANCH - fail while a change
# freeze holds PROJECT, unless BRANCH is the emergency's own branch.
#
# BROKER is user@host[:port]; the broker account runs only
# 'breakglass freeze serve' for KEY.  Exit 0: deploy; 1: frozen (the
# reason is printed); anything else: the freeze state could not be learnt,
# and the deploy must not go ahead either.
set -u
[ $# -eq 4 ] || { echo "usage: ci-freeze-check.sh KEY BROKER PROJECT BRANCH" >&2; exit 2; }
key=$1 broker=$2 project=$3 branch=$4
port=22
case $broker in *:*) port=${broker##*:}; broker=${broker%:*} ;; esac
ssh -i "$key" -p "$port" -o BatchMode=yes -o IdentitiesOnly=yes \
	${BREAKGLASS_SSH_OPTS:-} "$broker" \
	freeze status --project "$project" --branch "$branch"
rc=$?
case $rc in
0) exit 0 ;;
1) echo "deploy held: change freeze (see above)" >&2; exit 1 ;;
*) echo "deploy held: cannot reach the breakglass broker (exit $rc)" >&2; exit 1 ;;
esac
