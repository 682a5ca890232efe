// Types for the rule module (plain JavaScript, as eslint.config.js loads it).
import type { Rule } from 'eslint';

declare const rule: Rule.RuleModule;
export default rule;
