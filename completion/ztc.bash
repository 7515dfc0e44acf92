# ztc.bash: bash completion for ztc: groups, commands, options, aliases, uids, ports, targets and vm uids.
# Installed as "ztc" in bash-completion's completions dir, which loads it the first time ztc is completed.

# Aliases of the known-device store ($ZTC_HOME/devices.json), without running ztc.
_ztc_aliases()
{
	local home=${ZTC_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/ztc}
	[[ -r $home/devices.json ]] || return 0
	command grep -o '"alias"[[:space:]]*:[[:space:]]*"[^"]*"' "$home/devices.json" 2>/dev/null |
		command sed 's/.*"\([^"]*\)"$/\1/'
}

# Values of KEY in the JSON Lines ztc prints for ARGS (ztc -J ARGS), errors silenced.
_ztc_json_values()
{
	local ztc=$1 key=$2
	shift 2
	"$ztc" -J "$@" 2>/dev/null </dev/null |
		command grep -o "\"$key\":\"[^\"]*\"" | command sed 's/.*:"\([^"]*\)"$/\1/'
}

# COMPREPLY: the aliases starting with $cur, or the files when $cur is a path (a port names a device).
_ztc_alias_or_port()
{
	if [[ $cur == /* ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$(_ztc_aliases)" -- "$cur"))
	fi
}

_ztc()
{
	local cur prev ztc=${COMP_WORDS[0]}
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	# The words without the global options (-J, -v, -q may come anywhere): group, command,
	# (sub)command and their arguments. `ztc help GROUP COMMAND` completes as `ztc GROUP COMMAND`.
	local i w words=() opts_done=0 help=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--json | --verbose | --quiet | -[Jvq] | -[Jvq][Jvq]*) [[ $w == --* || $w != *[!-Jvq]* ]] && continue ;;
		esac
		if ((!opts_done)) && [[ $w == -* ]]; then
			continue
		fi
		if ((!opts_done)) && [[ $w == help ]]; then
			help=1
			continue
		fi
		opts_done=1
		words+=("$w")
	done

	# Options that take a value.
	case $prev in
	--type)
		COMPREPLY=($(compgen -W 'board jtag usbtoserial' -- "$cur"))
		return 0 ;;
	--baud)
		COMPREPLY=($(compgen -W '9600 19200 38400 57600 74880 115200 230400 250000 460800 921600 1000000 2000000' -- "$cur"))
		return 0 ;;
	--eol)
		COMPREPLY=($(compgen -W 'cr lf crlf' -- "$cur"))
		return 0 ;;
	--escape)
		COMPREPLY=($(compgen -W 'none' -- "$cur"))
		return 0 ;;
	--log | --port)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	--looptime | --timeout | --name | --chipid | --remote_id | --remote-id | --classname | --feat | --patch | \
	--token | --from | --usbpath)
		return 0 ;;
	esac

	local n=${#words[@]} group=${words[0]:-} cmd=${words[1]:-} opts=
	if ((n == 0)); then
		if [[ $cur == -* ]]; then
			((help)) || COMPREPLY=($(compgen -W '-J --json -v --verbose -q --quiet --version -h --help' -- "$cur"))
		elif ((help)); then
			COMPREPLY=($(compgen -W 'device vm login' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'device vm login help' -- "$cur"))
		fi
		return 0
	fi

	# args: the positional arguments given so far after the command (options skipped).
	local args=() skip=0 start=2
	[[ $group == device && $cmd == alias ]] && start=3
	for ((i = start; i < n; i++)); do
		w=${words[i]}
		if ((skip)); then skip=0; continue; fi
		case $w in
		--type | --baud | --log | --port | --looptime | --timeout | --name | --chipid | --remote_id | \
		--remote-id | --classname | --feat | --patch | --token | --from | --usbpath) skip=1 ;;
		-*) ;;
		*) args+=("$w") ;;
		esac
	done
	local nargs=${#args[@]}

	case $group in
	device)
		if ((n == 1)); then
			COMPREPLY=($(compgen -W 'discover alias supported register virtualize open --help' -- "$cur"))
			return 0
		fi
		case $cmd in
		discover) opts='--matchdb --loop --looptime --help' ;;
		supported) opts='--type --help' ;;
		register)
			opts='--skip_burn --skip-burn --help'
			((nargs == 0)) && [[ $cur != -* ]] && _ztc_alias_or_port ;;
		virtualize)
			opts='--help'
			if [[ $cur != -* ]]; then
				if ((nargs == 0)); then
					_ztc_alias_or_port
				elif ((nargs == 1)); then
					COMPREPLY=($(compgen -W "$(_ztc_json_values "$ztc" uid vm list)" -- "$cur"))
				fi
			fi ;;
		open)
			opts='--echo --baud --eol --escape --timeout --timestamp --timestamp= --log --reconnect --port --help'
			if ((nargs == 0)) && [[ $cur != -* ]]; then
				# A path names a port: complete /dev/tty* files; otherwise the aliases.
				if [[ $cur == /* ]]; then
					COMPREPLY=($(compgen -f -- "$cur"))
				else
					COMPREPLY=($(compgen -W "$(_ztc_aliases)" -- "$cur"))
				fi
			fi ;;
		alias)
			if ((n == 2)); then
				COMPREPLY=($(compgen -W 'put del list --help' -- "$cur"))
				return 0
			fi
			case ${words[2]} in
			put)
				opts='--name --chipid --remote_id --remote-id --classname --port --usbpath --help'
				if [[ $cur != -* ]]; then
					case $nargs in
					0)
						if [[ $cur == /* ]]; then
							COMPREPLY=($(compgen -f -- "$cur"))
						else
							COMPREPLY=($(compgen -W "$(_ztc_json_values "$ztc" uid device discover)" -- "$cur"))
						fi ;;
					2) COMPREPLY=($(compgen -W "$(_ztc_json_values "$ztc" target device supported)" -- "$cur")) ;;
					esac
				fi ;;
			del)
				opts='--yes --help'
				((nargs == 0)) && [[ $cur != -* ]] && COMPREPLY=($(compgen -W "$(_ztc_aliases)" -- "$cur")) ;;
			list) opts='--help' ;;
			esac ;;
		esac ;;
	vm)
		if ((n == 1)); then
			COMPREPLY=($(compgen -W 'create list download --help' -- "$cur"))
			return 0
		fi
		case $cmd in
		create)
			opts='--feat --name --patch --help'
			((nargs == 0)) && [[ $cur != -* ]] && _ztc_alias_or_port ;;
		list) opts='--remote --from --help' ;;
		download) opts='--help' ;;
		esac ;;
	login)
		opts='--token --help' ;;
	esac

	if [[ $cur == -* && -n $opts ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	fi
	return 0
}

complete -F _ztc ztc
