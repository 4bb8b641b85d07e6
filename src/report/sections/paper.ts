/** Sections that set our numbers beside the paper's: Table 11 and Table 10 per dataset, and coverage of its 27 datasets. */
import { againstPaper } from '../compare.js';
import { againstPaperLinearProbe, coverage } from '../compare-paper.js';
import { comparisonCsv, markdownTable, shownColumns } from '../markdown.js';
import { f2, type ReportSection } from './types.js';

export const againstPaperSection: ReportSection = {
  title: '9. Against the paper (Table 11 zero-shot, Table 10 linear probe)',
  build({ all, paper, md, write, skip, notes }) {
    const ap = againstPaper(all.zeroshot, paper);
    if (ap.rows.length) {
      write('against_paper.csv', comparisonCsv(ap));
      notes(ap);
      const diffs = ap.rows.map((r) => Math.abs(r.diff as number));
      md.push(`Zero-shot: mean absolute difference ${f2(diffs.reduce((a, b) => a + b, 0) / diffs.length)} points over ${diffs.length} model × dataset pairs.`, '');
      md.push(markdownTable(shownColumns(ap, ['split']), ap.rows), '');
    } else {
      skip('against the paper (Table 11)', "no zero-shot ensemble result of a model named like one of the paper's (RN50, …, ViT-L/14@336px) on one of its datasets", 'against_paper.csv');
    }
    const lp = againstPaperLinearProbe(all.linear_probe, paper);
    if (lp.rows.length) {
      write('against_paper_linear_probe.csv', comparisonCsv(lp));
      notes(lp);
      const diffs = lp.rows.map((r) => Math.abs(r.diff as number));
      md.push(`Linear probe: mean absolute difference ${f2(diffs.reduce((a, b) => a + b, 0) / diffs.length)} points over ${diffs.length} model × dataset pairs.`, '');
      md.push(markdownTable(shownColumns(lp), lp.rows), '');
    } else {
      skip('against the paper (Table 10)', "no linear-probe result of a model named like a row of the paper's Table 10 (the 9 CLIP models, `ResNet 50`, ...) on one of its datasets", 'against_paper_linear_probe.csv');
    }
    md.push('Paper numbers: see `PAPER_TABLES_SOURCES.md` in the clip-bench package (src/paper/) for their provenance.', '');
  },
};

export const coverageSection: ReportSection = {
  title: "10. Coverage of the paper's 27 datasets (Table 9)",
  build({ all, paper, lookupDataset, md, write, notes }) {
    const c = coverage(all, paper, lookupDataset);
    write('coverage.csv', comparisonCsv(c));
    notes(c);
    md.push(markdownTable(c.columns, c.rows), '');
  },
};
