import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { checkInt } from './validate.js';

export interface FunctionAlarmsProps {
  readonly fn: lambda.IFunction;
  /** Invocation errors (5xx from the runtime, crashes, timeouts) per 5 minutes that raise the alarm. @default 5 */
  readonly errorsPer5Min?: number;
  /** p99 duration over 5 minutes that raises the alarm. @default 3000 */
  readonly p99LatencyMs?: number;
  /** Where alarms notify. @default - no action: the alarms are visible in CloudWatch only */
  readonly alarmTopic?: sns.ITopic;
}

/** Errors, throttles and p99 latency alarms on one function. */
export class FunctionAlarms extends Construct {
  readonly errors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
  readonly p99Latency: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FunctionAlarmsProps) {
    super(scope, id);
    checkInt('FunctionAlarms', 'errorsPer5Min', props.errorsPer5Min, 1, 1_000_000);
    checkInt('FunctionAlarms', 'p99LatencyMs', props.p99LatencyMs, 1, 900_000);
    const period = Duration.minutes(5);
    const common = { evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING };
    this.errors = props.fn.metricErrors({ period, statistic: 'Sum' }).createAlarm(this, 'Errors', {
      ...common,
      threshold: props.errorsPer5Min ?? 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: `${props.fn.node.path}: invocation errors (crashes, timeouts)`,
    });
    this.throttles = props.fn.metricThrottles({ period, statistic: 'Sum' }).createAlarm(this, 'Throttles', {
      ...common,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: `${props.fn.node.path}: throttled invocations (raise the concurrency limit)`,
    });
    this.p99Latency = props.fn.metricDuration({ period, statistic: 'p99' }).createAlarm(this, 'P99Latency', {
      ...common,
      threshold: props.p99LatencyMs ?? 3000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `${props.fn.node.path}: p99 duration above ${props.p99LatencyMs ?? 3000} ms`,
    });
    if (props.alarmTopic) {
      const action = new actions.SnsAction(props.alarmTopic);
      for (const a of [this.errors, this.throttles, this.p99Latency]) a.addAlarmAction(action);
    }
  }
}
