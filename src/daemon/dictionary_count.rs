//! Distinct counts answered from the columns' Parquet dictionaries
//! ([`Store::distinct_in_dictionaries`] and
//! [`Store::distinct_per_group_in_dictionaries`]), not by hashing every
//! row: on 10M rows of 1,000 values DataFusion's plan spent 46 % of its time
//! interning values into groups and 17 % decoding the dictionaries into rows
//! (bench/README.md, round 4). An aggregate that is `count(DISTINCT c)`
//! alone, over a whole dataframe or grouped by one of its columns, is
//! replaced in the plan by its answer, so what is above it (ORDER BY,
//! HAVING, arithmetic, joins) runs as planned; when the dictionaries cannot
//! tell, the aggregate runs as planned too.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Column;
use datafusion::datasource::{provider_as_source, source_as_provider, MemTable};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan, LogicalPlanBuilder};

use super::error::Result;
use super::storage::{Snapshot, Store};
use super::table::DataframeTable;

/// What the answer's rows are scanned as in the rewritten plan.
const ANSWER: &str = "distinct_counts";

/// `plan` with each distinct count the dictionaries answer replaced by its
/// answer; `None` when there is none.
pub async fn rewrite(store: &Store, plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
    let mut asked = Vec::new();
    plan.apply(|node| {
        if let LogicalPlan::Aggregate(aggregate) = node {
            asked.push(distinct_count_of(aggregate));
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    let mut answers = Vec::with_capacity(asked.len());
    for question in &asked {
        answers.push(match question {
            Some(question) => answer(store, question).await?,
            None => None,
        });
    }
    if answers.iter().all(Option::is_none) {
        return Ok(None);
    }
    // The same walk, in the same order, meets the same aggregates.
    let mut answers = answers.into_iter();
    let rewritten = plan.clone().transform_down(|node| {
        let LogicalPlan::Aggregate(aggregate) = &node else { return Ok(Transformed::no(node)) };
        match answers.next().flatten() {
            Some(batch) => Ok(Transformed::yes(in_place_of(aggregate, &batch)?)),
            None => Ok(Transformed::no(node)),
        }
    })?;
    Ok(Some(rewritten.data))
}

/// A distinct count over one version of a dataframe.
struct Question {
    snapshot: Snapshot,
    group: Option<String>,
    counted: String,
    /// The aggregate's output: the group column, if any, then the count.
    schema: Arc<Schema>,
}

/// What `aggregate` asks, if it is `count(DISTINCT c)` alone over a whole
/// dataframe, grouped by nothing or by one column.
fn distinct_count_of(aggregate: &Aggregate) -> Option<Question> {
    let group = match aggregate.group_expr.as_slice() {
        [] => None,
        [Expr::Column(column)] => Some(column.name.clone()),
        _ => return None,
    };
    let [Expr::AggregateFunction(function)] = aggregate.aggr_expr.as_slice() else { return None };
    let params = &function.params;
    let plain_distinct_count =
        function.func.name() == "count" && params.distinct && params.filter.is_none() && params.order_by.is_empty();
    let ([Expr::Column(counted)], true) = (params.args.as_slice(), plain_distinct_count) else { return None };
    let schema = Arc::new(aggregate.schema.as_arrow().clone());
    if schema.fields().last()?.data_type() != &DataType::Int64 {
        return None;
    }
    let mut input = aggregate.input.as_ref();
    while let LogicalPlan::SubqueryAlias(alias) = input {
        input = alias.input.as_ref();
    }
    let LogicalPlan::TableScan(scan) = input else { return None };
    if !scan.filters.is_empty() || scan.fetch.is_some() {
        return None;
    }
    let provider = source_as_provider(&scan.source).ok()?;
    let table = (provider.as_ref() as &dyn std::any::Any).downcast_ref::<DataframeTable>()?;
    Some(Question { snapshot: table.snapshot().clone(), group, counted: counted.name.clone(), schema })
}

/// The aggregate's rows, under column names of this module's own.
async fn answer(store: &Store, question: &Question) -> Result<Option<RecordBatch>> {
    let Question { snapshot, group, counted, schema } = question;
    let columns: Vec<ArrayRef> = match group {
        None => {
            let Some(count) = store.distinct_in_dictionaries(snapshot, counted).await? else { return Ok(None) };
            vec![Arc::new(Int64Array::from(vec![i64::try_from(count).unwrap_or(i64::MAX)]))]
        }
        Some(group) => {
            let Some((keys, counts)) = store.distinct_per_group_in_dictionaries(snapshot, group, counted).await? else {
                return Ok(None);
            };
            // The group column as the plan scans it (strings as views).
            let keys = arrow::compute::cast(&keys, schema.field(0).data_type()).map_err(DataFusionError::from)?;
            vec![keys, Arc::new(Int64Array::from(counts))]
        }
    };
    let fields: Vec<Field> =
        schema.fields().iter().enumerate().map(|(i, f)| f.as_ref().clone().with_name(format!("c{i}"))).collect();
    Ok(Some(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(DataFusionError::from)?))
}

/// A scan of `batch` whose output is named as `aggregate`'s, for the plan
/// above it.
fn in_place_of(aggregate: &Aggregate, batch: &RecordBatch) -> datafusion::error::Result<LogicalPlan> {
    let names = batch.schema();
    let table = MemTable::try_new(names.clone(), vec![vec![batch.clone()]])?;
    let outputs = aggregate.schema.iter().zip(names.fields()).map(|((qualifier, field), column)| {
        Expr::Column(Column::new(Some(ANSWER), column.name())).alias_qualified(qualifier.cloned(), field.name())
    });
    LogicalPlanBuilder::scan(ANSWER, provider_as_source(Arc::new(table)), None)?.project(outputs)?.build()
}

#[cfg(test)]
mod tests {
    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::util::pretty::pretty_format_batches;
    use datafusion::prelude::{DataFrame, SessionContext};
    use object_store::memory::InMemory;

    use super::*;
    use crate::daemon::storage::{BucketId, Location, Name, PutSpec, StoreOptions};
    use crate::protocol::PutMode;

    #[tokio::test]
    async fn only_a_distinct_count_over_a_whole_dataframe_alone_or_grouped_by_a_column_is_taken() {
        let store =
            Arc::new(Store::open(Location::Memory(Arc::new(InMemory::new())), StoreOptions::default()).unwrap());
        let (bucket, name) = (BucketId::Default, Name::parse("dataframe", "t").unwrap());
        let batch = RecordBatch::try_from_iter([
            ("code", Arc::new(Int64Array::from(vec![1, 2, 2])) as _),
            ("site", Arc::new(StringArray::from(vec!["a", "b", "a"])) as _),
            ("value", Arc::new(Float64Array::from(vec![0.5, -1.0, 2.0])) as _),
        ])
        .unwrap();
        let rows = futures::stream::iter([Ok(batch.clone())]);
        store.put(&bucket, &name, PutSpec::plain(PutMode::Error), batch.schema(), rows).await.unwrap();
        let snapshot = store.snapshot(&bucket, &name, None).await.unwrap();
        let ctx = SessionContext::new();
        ctx.register_object_store(&url::Url::parse(crate::daemon::table::STORE_URL).unwrap(), store.object_store());
        ctx.register_table("t", Arc::new(DataframeTable::new(snapshot, store.clone(), false))).unwrap();
        for (sql, taken) in [
            ("select count(distinct code) from t", true),
            ("select count(distinct t.site) as n from t", true),
            ("select count(distinct x.code) from t x", true),
            ("select count(distinct code) + 1 from t", true),
            ("select site, count(distinct code) as n from t group by site order by site", true),
            ("select count(distinct site), code from t group by code having count(distinct site) > 1", true),
            ("select n, count(*) from (select site, count(distinct code) as n from t group by site) group by n order by n", true),
            ("select count(distinct code) from t where value > 0", false),
            ("select count(distinct code), count(*) from t", false),
            ("select count(distinct code) from t group by site, value", false),
            ("select count(distinct code) from t group by code % 2", false),
            ("select count(distinct value) from t group by site", false),
            ("select count(code) from t", false),
            ("select count(distinct code) from (select * from t limit 2)", false),
        ] {
            let plan = ctx.sql(sql).await.unwrap().logical_plan().clone();
            let rewritten = rewrite(&store, &plan).await.unwrap();
            assert_eq!(rewritten.is_some(), taken, "{sql}");
            if let Some(rewritten) = rewritten {
                let got = DataFrame::new(ctx.state(), rewritten).collect().await.unwrap();
                let want = ctx.sql(sql).await.unwrap().collect().await.unwrap();
                assert_eq!(
                    pretty_format_batches(&got).unwrap().to_string(),
                    pretty_format_batches(&want).unwrap().to_string(),
                    "{sql}"
                );
            }
        }
    }
}
