# gdb -p PID -batch -x bench/lib/stall_state.py
#
# What a sluice process that stopped making progress was waiting for, read
# from its memory with gdb's Python (the binary's debug info; -g is the
# default build): the query's checkpoints; per task its stage, watermark and
# barrier; a Kafka source's group state, pending commits and unread owned
# partitions; a repartition reader's held messages and, for every owned
# partition whose watermark is not at the end, which origins hold it back
# and what it knows of each writer (committed segment, fenced). It found
# the end-of-read fence that dropped a writer's ends (docs/scaling.md).
# It names internal structs and fields: keep it in step with runtime/.
import gdb

MAX = 9223372036854775807


def worker_frame():
    for th in gdb.selected_inferior().threads():
        th.switch()
        f = gdb.newest_frame()
        while f:
            if f.name() == 'worker_main':
                return f
            f = f.older()
    return None


def main():
    f = worker_frame()
    if f is None:
        print('stall_state: no worker thread (the query has not started, or has ended)')
        return
    f.select()
    q = gdb.parse_and_eval('(Worker *)arg')['q']
    print('query: ckpt_epoch', q['ckpt_epoch'], 'ckpt_request', q['ckpt_request'], 'ckpt_skipped',
          q['ckpt_skipped'], 'ntasks', q['ntasks'])
    ks_t = gdb.lookup_type('KafkaSource').pointer()
    for k in range(int(q['ntasks'])):
        t = q['tasks'][k]
        print('task', k, 'stage', t['stage'], 'finished', t['finished'], 'wm', t['wm'], 'barrier',
              t['barrier_epoch'], 'acked', t['acked_epoch'], 'held batches', t['kx_nhold'])
        if int(t['kxw']):
            w = t['kxw']
            print('  writer %016x open segment %d failed deliveries %d'
                  % (int(w['id']) & (2**64 - 1), int(w['seg']), int(w['failed'])))
        s = t['source']
        if int(s):
            ks = s['impl'].cast(ks_t)
            print('  source: rebalancing', s['group_unsteady'], 'ending', s['group_ending'], 'revoking',
                  s['group_revoking'], 'pending epochs', int(ks['npend']), 'last error',
                  repr(ks['last_err'].string()[:200]))
            parts = ks['parts']
            own = [i for i in range(int(ks['nparts'])) if int(parts[i]['owned'])]
            unread = [(i, int(parts[i]['pos']), int(parts[i]['end'])) for i in own if not int(parts[i]['done'])]
            print('  owned partitions', len(own), 'not done (id, pos, end)', unread[:20])
        r = t['kxr']
        if int(r):
            print('  reader: partitions', r['nassigned'], 'revoking', r['nrevoking'], 'generation',
                  r['generation'], 'held messages', r['nheld'], 'ready', r['ready'], 'warning',
                  repr(r['warn'].string()[:200]))
            no = int(r['norigins'])
            for pi in range(int(r['nparts'])):
                p = r['parts'][pi]
                if not int(p['owned']):
                    continue
                wms = [int(p['wm'][o]) for o in range(no)]
                lo = min(wms)
                if lo == MAX:
                    continue
                behind = [o for o in range(no) if wms[o] == lo]
                print('   partition', pi, 'next offset', p['next'], 'watermark', lo, 'held back by origins',
                      behind[:16], '(%d)' % len(behind))
                for i in range(int(p['nws'])):
                    ws = p['ws'][i]
                    print('     writer %016x committed through %d fenced %d holding %s'
                          % (int(ws['id']) & (2**64 - 1), int(ws['committed']), int(ws['fenced']),
                             'yes' if int(ws['head']) else 'no'))


main()
