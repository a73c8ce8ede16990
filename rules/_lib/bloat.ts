/** Severity ladder shared by table-bloat and index-bloat (detection notes §3.3 step 4). */
import type { Severity } from '../../src/engine/types.js';

export interface BloatThresholds {
  readonly warningRatio: number;
  readonly warningWasteBytes: number;
  readonly largeWasteBytes: number;
  readonly largeWasteRatio: number;
  readonly criticalRatio: number;
  readonly criticalWasteBytes: number;
}

/**
 * warning: ratio ≥ warningRatio and waste ≥ warningWasteBytes, or waste ≥ largeWasteBytes and
 * ratio ≥ largeWasteRatio; critical: ratio ≥ criticalRatio and waste ≥ criticalWasteBytes.
 */
export function gradeBloat(wasteBytes: number, ratio: number, t: BloatThresholds): Severity | null {
  if (ratio >= t.criticalRatio && wasteBytes >= t.criticalWasteBytes) return 'critical';
  if (ratio >= t.warningRatio && wasteBytes >= t.warningWasteBytes) return 'warning';
  if (wasteBytes >= t.largeWasteBytes && ratio >= t.largeWasteRatio) return 'warning';
  return null;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Threshold specs common to both bloat rules. */
export const BLOAT_THRESHOLD_SPECS = {
  warningRatio: { default: 0.4, description: 'Waste as a fraction of the relation size (0–1) for a warning, together with warningWasteBytes.' },
  warningWasteBytes: { default: 8 * MiB, description: 'Minimum reclaimable space (bytes) for a ratio-based warning.' },
  largeWasteBytes: { default: GiB, description: 'Reclaimable space (bytes) that is a warning on its own when the ratio is at least largeWasteRatio.' },
  largeWasteRatio: { default: 0.2, description: 'Minimum waste fraction (0–1) for the large-waste warning.' },
  criticalRatio: { default: 0.7, description: 'Waste fraction (0–1) for critical, together with criticalWasteBytes.' },
  criticalWasteBytes: { default: GiB, description: 'Minimum reclaimable space (bytes) for critical.' },
} as const;
