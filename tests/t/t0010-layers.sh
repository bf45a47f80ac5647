#!/bin/sh
# t0010-layers: scripts/check-layers finds upward and peer includes
# (resolving bare includes the way the compiler does), ambiguous header
# names and include cycles, in a folder and across folders; and the real
# tree passes it.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="$ROOT/scripts/check-layers"

# a small tree: low < mid < (a b), with -I naming every folder
mk() {
	rm -rf "$T/tree"
	mkdir -p "$T/tree/src/low" "$T/tree/src/mid" "$T/tree/src/a" "$T/tree/src/b"
	cat >"$T/tree/LAYERS" <<'EOF'
src/low
src/mid   # comment
src/a src/b
EOF
	for m in low/l mid/m a/x b/y; do
		: >"$T/tree/src/$m.h"
		echo "#include \"$(basename $m).h\"" >"$T/tree/src/$m.c"
	done
}
run() { (cd "$T/tree" && "$CHECK" LAYERS -I src/low -I src/mid -I src/a -I src/b) \
	>"$T/out" 2>"$T/err"; }

mk
echo '#include "l.h"' >>"$T/tree/src/mid/m.c"
echo '#include "m.h"' >>"$T/tree/src/a/x.h"
echo '#include <stdio.h>' >>"$T/tree/src/low/l.c"
if run; then ok "a clean tree passes"; else not_ok "a clean tree passes"; fi

mk
printf '\n#include "x.h"\n' >>"$T/tree/src/mid/m.c"
if run; then not_ok "an upward include fails"; else ok "an upward include fails"; fi
err_has 'src/mid/m.c:3: includes "x.h" from src/a, a higher layer than src/mid' \
	"it names the file, line, header and both folders"

mk
echo '#include "y.h"' >>"$T/tree/src/a/x.c"
if run; then not_ok "a peer include fails"; else ok "a peer include fails"; fi
err_has 'from src/b, a peer of src/a' "it says the folders are peers"

# the bare name resolves through -I, not by guessing from the name
mk
echo '#include "../b/y.h"' >>"$T/tree/src/a/x.c"
if run; then not_ok "a relative path to a peer fails too"; else ok "a relative path to a peer fails too"; fi
err_has 'from src/b' "the relative include is attributed to its folder"

mk
: >"$T/tree/src/b/l.h"
if run; then not_ok "a header name in two folders fails"; else ok "a header name in two folders fails"; fi
err_has '"l.h" exists in src/low and src/b' "it names both folders"

mk
echo '#include "nowhere.h"' >>"$T/tree/src/mid/m.c"
if run; then not_ok "an include that resolves nowhere fails"; else ok "an include that resolves nowhere fails"; fi

mk
echo '#include "u.h"' >"$T/tree/src/low/t.c"; : >"$T/tree/src/low/t.h"
echo '#include "t.h"' >"$T/tree/src/low/u.c"; : >"$T/tree/src/low/u.h"
if run; then not_ok "a cycle inside a folder fails"; else ok "a cycle inside a folder fails"; fi
err_has 'include cycle among src/low/t, src/low/u' "it names the modules of the cycle"

# a cycle across folders is also a layering violation; both are named
mk
echo '#include "x.h"' >>"$T/tree/src/mid/m.h"
echo '#include "m.h"' >>"$T/tree/src/a/x.c"
if run; then not_ok "a cycle across folders fails"; else ok "a cycle across folders fails"; fi
err_has 'include cycle among src/a/x, src/mid/m' "the cross-folder cycle is named"

# a module split over files (x.c, x-part.c, x-int.h) is one module
mk
echo '#include "x-int.h"' >>"$T/tree/src/a/x.c"
echo '#include "x-int.h"' >"$T/tree/src/a/x-part.c"
echo '#include "x.h"' >"$T/tree/src/a/x-int.h"
if run; then ok "the parts of one module may include each other"; else not_ok "the parts of one module may include each other"; fi

mk
echo "src/nope" >>"$T/tree/LAYERS"
if run; then not_ok "a layer that is not a folder fails"; else ok "a layer that is not a folder fails"; fi

# the real tree, with the include path the build uses
INC=$(make -s -C "$ROOT" --no-print-directory -f Makefile -f - print-inc <<'EOF'
print-inc:
	@echo $(INC)
EOF
)
case "$INC" in *-Isrc/base*) ok "the build's include path is read from the Makefile" ;;
	*) not_ok "the build's include path is read from the Makefile ('$INC')" ;; esac
# shellcheck disable=SC2086
if (cd "$ROOT" && "$CHECK" src/LAYERS $INC) >"$T/out" 2>"$T/err"; then
	ok "breakglass's own tree passes"
else
	not_ok "breakglass's own tree passes"
fi
done_testing
