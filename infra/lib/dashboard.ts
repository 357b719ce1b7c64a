import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The CloudWatch namespace of the node's embedded-metric-format lines (src/observability/emf.ts says the same). */
export const EMF_NAMESPACE = 'apinode';

export interface ApinodeDashboardProps {
  /** `apinode-<region>` in the stack's region. */
  readonly dashboardName: string;
  /** The user-facing function: its invocations, errors, throttles and duration. */
  readonly user: lambda.IFunction;
  /** The admin function. @default - none: a regional stack without one */
  readonly admin?: lambda.IFunction;
  /** Log group whose rollout lines the dashboard lists (the admin function's). @default - no rollout log panel */
  readonly rolloutLogGroup?: logs.ILogGroup;
  /** Period of every graph. @default Duration.minutes(1) */
  readonly period?: Duration;
}

/**
 * One dashboard per region. Generations are not known at synth, so the per-generation panels
 * are CloudWatch SEARCH expressions over the node's EMF metrics (one line per service and
 * generation, dimensions Service, Generation), beside the functions' own metrics.
 */
export class ApinodeDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ApinodeDashboardProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(1);
    const search = (metric: string, statistic: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${EMF_NAMESPACE},Service,Generation} MetricName="${metric}"', '${statistic}', ${period.toSeconds()})`,
        period,
        usingMetrics: {},
      });
    const graph = (title: string, left: cloudwatch.IMetric[], unit?: string) =>
      new cloudwatch.GraphWidget({ title, left, width: 12, height: 6, leftYAxis: unit ? { label: unit, showUnits: false, min: 0 } : { min: 0 } });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: '## apinode per generation\nFrom the node\'s embedded metrics (namespace `apinode`): one line per service and generation. A guarded rollout compares the new generation\'s 5xx rate and p99 with its thresholds (docs/deploy-aws.md).',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('Requests per generation', [search('Requests', 'Sum')]),
      graph('Server errors (5xx) per generation', [search('Errors', 'Sum')]),
    );
    this.dashboard.addWidgets(
      graph('p99 latency per generation', [search('Latency', 'p99')], 'ms'),
      graph('Client errors (4xx) per generation', [search('ClientErrors', 'Sum')]),
    );
    for (const [name, fn] of [['user', props.user], ['admin', props.admin]] as const) {
      if (!fn) continue;
      this.dashboard.addWidgets(
        graph(`${name} function: invocations, errors, throttles`, [fn.metricInvocations({ period }), fn.metricErrors({ period }), fn.metricThrottles({ period })]),
        graph(`${name} function: duration p50, p99`, [fn.metricDuration({ period, statistic: 'p50' }), fn.metricDuration({ period, statistic: 'p99' })], 'ms'),
      );
    }
    if (props.rolloutLogGroup) {
      this.dashboard.addWidgets(
        new cloudwatch.LogQueryWidget({
          title: 'Rollout decisions (admin function log)',
          logGroupNames: [props.rolloutLogGroup.logGroupName],
          // The controller's decision lines: {"msg": "rollout", serviceId, generation, action, percent, reason, by}
          queryLines: ['fields @timestamp, serviceId, generation, action, percent, reason, by', 'filter msg = "rollout"', 'sort @timestamp desc', 'limit 50'],
          width: 24,
          height: 6,
        }),
      );
    }
  }
}
